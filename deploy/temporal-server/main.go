// Command server is the Temporal server the production-shaped cluster runs: the server of
// go.temporal.io/server at the version the stack names, with the JWT claim mapper and audience
// of its configuration, and Temporal's default authorizer narrowed (courtAuthorizer):
//
//   - a task call (polling a task queue; answering, failing or heartbeating a workflow,
//     activity, query or Nexus task) needs the namespace's worker role, held by the workers'
//     principal alone, or is the server's own internal principal's: whoever takes a request's
//     tasks decides what it does next;
//   - a principal without the worker or admin role (every person, the bridges) writes only
//     what the product's clients send: it starts a workflow (startRefusal: under an id never
//     used, once) and sends one an update (a Court action, a State's answer), whose validator
//     judges it; a signal (which no validator judges: a request's report to its case, a
//     notice relayed to a party's directory) is the workers' alone; resetting,
//     terminating, cancelling, deleting, batch and schedule operations, standalone activities
//     (which the workers would run with their keys) and the settings of activities, task
//     queues and workers are refused to it; a call a later Temporal adds is refused too;
//   - every other call is the default authorizer's (read to read, admin to administer).
//
// With the default authorizer alone, the write role any Court user holds would also poll the
// task queues: a Chamber's clerk could complete a request's workflow task in the worker's
// place (put organ keys of its own in force, take an answer the request's rules refuse), or
// reset a request to before the Court's action.
//
// Usage, as the server's own command (the official image's entrypoint runs `temporal-server
// start` with TEMPORAL_SERVER_CONFIG_FILE_PATH and TEMPORAL_SERVICES; Dockerfile):
//
//	server --config-file FILE start [--service NAME]...
//	server [--root DIR] [--config DIR] [--env NAME] [--zone NAME] start [--service NAME]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/temporal"
)

// taskAPIs are the calls that take or settle a worker's tasks: whoever may make them decides
// what a workflow does next.
var taskAPIs = map[string]bool{
	"PollWorkflowTaskQueue":            true,
	"RespondWorkflowTaskCompleted":     true,
	"RespondWorkflowTaskFailed":        true,
	"RespondQueryTaskCompleted":        true,
	"ResetStickyTaskQueue":             true,
	"PollActivityTaskQueue":            true,
	"RecordActivityTaskHeartbeat":      true,
	"RecordActivityTaskHeartbeatById":  true,
	"RespondActivityTaskCompleted":     true,
	"RespondActivityTaskCompletedById": true,
	"RespondActivityTaskFailed":        true,
	"RespondActivityTaskFailedById":    true,
	"RespondActivityTaskCanceled":      true,
	"RespondActivityTaskCanceledById":  true,
	"PollNexusTaskQueue":               true,
	"RespondNexusTaskCompleted":        true,
	"RespondNexusTaskFailed":           true,
	"ShutdownWorker":                   true,
	"RecordWorkerHeartbeat":            true,
}

// peopleWrites are the writes of a principal that is neither a worker nor an admin.
var peopleWrites = map[string]bool{
	"StartWorkflowExecution":  true,
	"UpdateWorkflowExecution": true,
}

// courtAuthorizer applies the rules of the command's comment, then the default authorizer.
type courtAuthorizer struct {
	inner authorization.Authorizer
}

func deny(reason string) (authorization.Result, error) {
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: reason}, nil
}

func (a courtAuthorizer) Authorize(
	ctx context.Context, claims *authorization.Claims, target *authorization.CallTarget,
) (authorization.Result, error) {
	if claims == nil { // no token: the default authorizer lets health checks through only
		return a.inner.Authorize(ctx, claims, target)
	}
	internal := claims.AuthType == authorization.InternalPrincipalType &&
		claims.Subject == authorization.InternalPrincipalName
	held := claims.System | claims.Namespaces[target.Namespace]
	worker := internal || held&authorization.RoleWorker != 0
	name := target.APIName
	workflowService := strings.HasPrefix(name, api.WorkflowServicePrefix)
	method := api.MethodName(name)
	if workflowService && taskAPIs[method] && !worker {
		return deny("only a worker's principal may take or settle tasks")
	}
	person := !worker && held&authorization.RoleAdmin == 0
	if person && workflowService && api.GetMethodMetadata(name).Access != api.AccessReadOnly {
		if !peopleWrites[method] {
			return deny(method + " is for the workers and the administrators, not a person")
		}
		if refusal := startRefusal(target.Request); refusal != "" {
			return deny(refusal)
		}
	}
	return a.inner.Authorize(ctx, claims, target)
}

// startRefusal says why a person may not make this start ("" if it may): it names a workflow
// id that was never used (a closed request is never started again, an id never taken over),
// and nothing that runs it again by itself (a retry or a cron run continues the previous run,
// which the workflows trust as their own: workflows/request_keys.py), hands its first task to
// the caller, attaches callbacks or pins a worker's version.
func startRefusal(request any) string {
	start, ok := request.(*workflowservice.StartWorkflowExecutionRequest)
	switch {
	case !ok:
		return ""
	case start.GetWorkflowIdConflictPolicy() == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
		return "a start may not terminate a running workflow"
	case start.GetWorkflowIdReusePolicy() != enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
		return "a start must refuse an id used before (REJECT_DUPLICATE)"
	case start.GetCronSchedule() != "" || start.GetRetryPolicy() != nil:
		return "a start may not run again by itself (cron schedule, retry policy)"
	case start.GetRequestEagerExecution() || len(start.GetCompletionCallbacks()) > 0:
		return "a start may not take its first task or attach callbacks"
	case start.GetOnConflictOptions() != nil || start.GetVersioningOverride() != nil:
		return "a start may not set conflict options or a version override"
	}
	return ""
}

func env(key, otherwise string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return otherwise
}

type services []string

func (s *services) String() string     { return strings.Join(*s, ",") }
func (s *services) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	global := flag.NewFlagSet("server", flag.ContinueOnError)
	configFile := global.String("config-file", os.Getenv(config.EnvKeyConfigFile), "the configuration file")
	root := global.String("root", env(config.EnvKeyRoot, "."), "the directory of the configuration directory")
	configDir := global.String("config", env(config.EnvKeyConfigDir, "config"), "the configuration directory")
	environment := global.String("env", env(config.EnvKeyEnvironment, "development"), "its environment")
	zone := global.String("zone", os.Getenv(config.EnvKeyAvailabilityZone), "the availability zone")
	if err := global.Parse(args); err != nil {
		return err
	}
	byDirectory := false // as the server's own command: a directory named, else the embedded one
	global.Visit(func(f *flag.Flag) { byDirectory = byDirectory || f.Name != "config-file" })
	for _, key := range []string{config.EnvKeyRoot, config.EnvKeyConfigDir, config.EnvKeyEnvironment} {
		byDirectory = byDirectory || os.Getenv(key) != ""
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] != "start" {
		return fmt.Errorf("usage: server [--config-file FILE | --root DIR --config DIR --env NAME] start [--service NAME]...")
	}
	start := flag.NewFlagSet("start", flag.ContinueOnError)
	var chosen services
	start.Var(&chosen, "service", "a service to start (repeat; default TEMPORAL_SERVICES, else the server's)")
	if err := start.Parse(rest[1:]); err != nil {
		return err
	}
	if len(chosen) == 0 && os.Getenv("TEMPORAL_SERVICES") != "" {
		chosen = strings.Split(os.Getenv("TEMPORAL_SERVICES"), ",")
	}
	if len(chosen) == 0 {
		chosen = temporal.DefaultServices
	}
	var cfg *config.Config
	var err error
	switch {
	case *configFile != "":
		cfg, err = config.Load(config.WithConfigFile(*configFile))
	case byDirectory:
		dir := path.Join(*root, *configDir)
		cfg, err = config.Load(config.WithEnv(*environment), config.WithConfigDir(dir), config.WithZone(*zone))
	default:
		cfg, err = config.Load(config.WithEmbedded())
	}
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))
	auth := &cfg.Global.Authorization
	inner, err := authorization.GetAuthorizerFromConfig(auth)
	if err != nil {
		return fmt.Errorf("authorizer: %w", err)
	}
	if authorization.IsNoopAuthorizer(inner) || auth.ClaimMapper != "default" {
		// Without both, every caller (even one without a token) would be the cluster's admin.
		return fmt.Errorf("global.authorization needs authorizer and claimMapper \"default\": this server refuses to run open")
	}
	claims, err := authorization.GetClaimMapperFromConfig(auth, logger)
	if err != nil {
		return fmt.Errorf("claim mapper: %w", err)
	}
	audience, err := authorization.GetAudienceMapperFromConfig(auth)
	if err != nil {
		return fmt.Errorf("audience: %w", err)
	}
	server, err := temporal.NewServer(
		temporal.ForServices(chosen),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.InterruptOn(temporal.InterruptCh()),
		temporal.WithAuthorizer(courtAuthorizer{inner: inner}),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claims }),
		temporal.WithAudienceGetter(func(*config.Config) authorization.JWTAudienceMapper {
			return audience
		}),
	)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return server.Start()
}
