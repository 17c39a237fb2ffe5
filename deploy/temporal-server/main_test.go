package main

import (
	"context"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
)

const namespace = "tracefreeze"

func claims(role authorization.Role) *authorization.Claims {
	return &authorization.Claims{Subject: "someone", Namespaces: map[string]authorization.Role{namespace: role}}
}

func decide(t *testing.T, who *authorization.Claims, method string, request any) authorization.Decision {
	t.Helper()
	target := &authorization.CallTarget{APIName: api.WorkflowServicePrefix + method, Namespace: namespace, Request: request}
	result, err := courtAuthorizer{inner: authorization.NewDefaultAuthorizer()}.Authorize(context.Background(), who, target)
	if err != nil {
		t.Fatal(err)
	}
	return result.Decision
}

func TestWhoMayCallWhat(t *testing.T) {
	allow, refuse := authorization.DecisionAllow, authorization.DecisionDeny
	writer := claims(authorization.RoleWriter)
	worker := claims(authorization.RoleWriter | authorization.RoleWorker)
	admin := claims(authorization.RoleAdmin)
	sysadmin := &authorization.Claims{Subject: "tracefreeze-admin", System: authorization.RoleAdmin}
	internal := &authorization.Claims{
		System: authorization.RoleAdmin, AuthType: authorization.InternalPrincipalType,
		Subject: authorization.InternalPrincipalName,
	}
	reader := claims(authorization.RoleReader)
	once := enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	fresh := &workflowservice.StartWorkflowExecutionRequest{WorkflowIdReusePolicy: once}
	terminating := &workflowservice.StartWorkflowExecutionRequest{
		WorkflowIdReusePolicy:    once,
		WorkflowIdConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
	}
	reopening := &workflowservice.StartWorkflowExecutionRequest{} // ALLOW_DUPLICATE by default
	retrying := &workflowservice.StartWorkflowExecutionRequest{
		WorkflowIdReusePolicy: once, RetryPolicy: &commonpb.RetryPolicy{MaximumAttempts: 3},
	}
	repeating := &workflowservice.StartWorkflowExecutionRequest{WorkflowIdReusePolicy: once, CronSchedule: "@every 1h"}
	eager := &workflowservice.StartWorkflowExecutionRequest{WorkflowIdReusePolicy: once, RequestEagerExecution: true}
	cases := []struct {
		who     *authorization.Claims
		method  string
		request any
		want    authorization.Decision
	}{
		{writer, "PollWorkflowTaskQueue", nil, refuse},
		{writer, "RespondWorkflowTaskCompleted", nil, refuse},
		{writer, "RespondActivityTaskCompletedById", nil, refuse},
		{admin, "PollWorkflowTaskQueue", nil, refuse},
		{sysadmin, "RespondWorkflowTaskCompleted", nil, refuse},
		{worker, "PollWorkflowTaskQueue", nil, allow},
		{worker, "RespondActivityTaskCompleted", nil, allow},
		{internal, "PollWorkflowTaskQueue", nil, allow},
		{claims(authorization.RoleWorker), "PollActivityTaskQueue", nil, refuse}, // and write
		{writer, "StartWorkflowExecution", fresh, allow},
		{writer, "StartWorkflowExecution", terminating, refuse},
		{writer, "StartWorkflowExecution", reopening, refuse},
		{writer, "StartWorkflowExecution", retrying, refuse},
		{writer, "StartWorkflowExecution", repeating, refuse},
		{writer, "StartWorkflowExecution", eager, refuse},
		{worker, "StartWorkflowExecution", reopening, allow},
		{worker, "StartWorkflowExecution", terminating, allow},
		{writer, "UpdateWorkflowExecution", nil, allow},
		{writer, "SignalWorkflowExecution", nil, refuse},
		{worker, "SignalWorkflowExecution", nil, allow},
		{writer, "ResetWorkflowExecution", nil, refuse},
		{writer, "TerminateWorkflowExecution", nil, refuse},
		{writer, "DeleteWorkflowExecution", nil, refuse},
		{writer, "StartActivityExecution", nil, refuse},
		{writer, "StartBatchOperation", nil, refuse},
		{writer, "CreateSchedule", nil, refuse},
		{writer, "UpdateActivityOptions", nil, refuse},
		{writer, "ExecuteMultiOperation", nil, refuse},
		{writer, "SomeCallOfALaterTemporal", nil, refuse},
		{writer, "QueryWorkflow", nil, allow},
		{writer, "DescribeWorkflowExecution", nil, allow},
		{admin, "ResetWorkflowExecution", nil, allow},
		{sysadmin, "TerminateWorkflowExecution", nil, allow},
		{reader, "QueryWorkflow", nil, allow},
		{reader, "UpdateWorkflowExecution", nil, refuse},
		{nil, "DescribeWorkflowExecution", nil, refuse},
	}
	for _, c := range cases {
		if got := decide(t, c.who, c.method, c.request); got != c.want {
			subject := "no token"
			if c.who != nil {
				subject = c.who.Subject
			}
			t.Errorf("%s by %s (%v): got %v, want %v", c.method, subject, c.who, got, c.want)
		}
	}
}
