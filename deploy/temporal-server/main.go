// Command server is the Temporal server the production-shaped cluster runs: the server of
// go.temporal.io/server at the version the stack names, with the JWT claim mapper and audience
// of its configuration, and Temporal's default authorizer narrowed by one rule (taskAuthorizer):
// only a principal holding the namespace's worker role, or the cluster's admin role (the
// server's own internal principal), may poll a task queue or answer, fail or heartbeat a task.
//
// With the default authorizer alone, the write role any Court user holds to start, signal and
// update requests also polls their task queues: a Chamber's clerk could complete a request's
// workflow task and so decide for the worker (put organ keys of its own in force, take an
// answer the request's rules would refuse). Here the workers' principal alone carries the
// worker role (tracefreeze/security/identity.py).
//
// Usage, as the server's own command (and the official image's entrypoint, which this binary
// replaces there: Dockerfile):
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

// taskAuthorizer refuses a task call to a principal without the worker role on the call's
// namespace (or the cluster's admin role), and otherwise asks the default authorizer.
type taskAuthorizer struct {
	inner authorization.Authorizer
}

func isTaskAPI(name string) bool {
	return strings.HasPrefix(name, api.WorkflowServicePrefix) && taskAPIs[api.MethodName(name)]
}

func (a taskAuthorizer) Authorize(
	ctx context.Context, claims *authorization.Claims, target *authorization.CallTarget,
) (authorization.Result, error) {
	if isTaskAPI(target.APIName) && !mayTakeTasks(claims, target.Namespace) {
		return authorization.Result{
			Decision: authorization.DecisionDeny,
			Reason:   "only a worker's principal may take or settle tasks",
		}, nil
	}
	return a.inner.Authorize(ctx, claims, target)
}

func mayTakeTasks(claims *authorization.Claims, namespace string) bool {
	if claims == nil {
		return false
	}
	if claims.System&authorization.RoleAdmin != 0 {
		return true
	}
	return (claims.System|claims.Namespaces[namespace])&authorization.RoleWorker != 0
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
	configFile := global.String("config-file", "", "the server's configuration (YAML)")
	root := global.String("root", ".", "the directory the configuration directory is in")
	configDir := global.String("config", "config", "the configuration directory, under root")
	env := global.String("env", "development", "the configuration's environment")
	zone := global.String("zone", "", "the availability zone")
	if err := global.Parse(args); err != nil {
		return err
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] != "start" {
		return fmt.Errorf("usage: server [--config-file FILE | --root DIR --config DIR --env NAME] start [--service NAME]...")
	}
	start := flag.NewFlagSet("start", flag.ContinueOnError)
	var chosen services
	start.Var(&chosen, "service", "a service to start (repeat; default: the server's)")
	if err := start.Parse(rest[1:]); err != nil {
		return err
	}
	if len(chosen) == 0 {
		chosen = temporal.DefaultServices
	}
	var cfg *config.Config
	var err error
	if *configFile != "" {
		cfg, err = config.Load(config.WithConfigFile(*configFile))
	} else {
		dir := path.Join(*root, *configDir)
		cfg, err = config.Load(config.WithEnv(*env), config.WithConfigDir(dir), config.WithZone(*zone))
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
	if authorization.IsNoopAuthorizer(inner) {
		return fmt.Errorf("global.authorization.authorizer is not set: this server refuses to run open")
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
		temporal.WithAuthorizer(taskAuthorizer{inner: inner}),
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
