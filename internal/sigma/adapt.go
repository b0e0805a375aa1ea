package sigma

import (
	"strings"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
)

// Compiler adapts CompileWith to the rule loader's hook
// (rule.LoadPaths takes a rule.SigmaCompiler).
func Compiler(opts CompileOptions) rule.SigmaCompiler {
	return func(docs []rule.Doc) ([]*rule.Rule, []error) {
		ds := make([]Doc, len(docs))
		for i, d := range docs {
			ds[i] = Doc{File: d.File, Data: d.Data}
		}
		return CompileWith(ds, opts)
	}
}

// CasePlaceholders derives expand placeholders from the case config, so
// Sigma rules written with %placeholders% run against this case:
//
//	%provider_accounts%   every provider's account patterns
//	%provider_networks%   every provider's networks (CIDR; use |expand|cidr)
//	%provider_operators%  RMM operator names
//	%rmm_tools%           RMM tools the providers use
//	%internal_networks%   the case's internal networks
//	%privileged_groups%   privileged group names
//	%servers%             server host name patterns
//	%ioc_ips%, %ioc_domains%, %ioc_hashes%
//
// Case patterns are globs where a backslash is a plain character (MSP\*);
// they are turned into Sigma strings (MSP\\*) so * and ? stay wildcards.
// Empty lists are left out: a rule using one then fails to load with
// "unknown placeholder" instead of silently matching nothing.
func CasePlaceholders(cfg *caseconf.Config) map[string][]string {
	if cfg == nil {
		return nil
	}
	out := map[string][]string{}
	add := func(name string, globs bool, vals ...string) {
		for _, v := range vals {
			if v == "" {
				continue
			}
			if globs {
				v = strings.ReplaceAll(v, `\`, `\\`)
			}
			out[name] = append(out[name], v)
		}
	}
	for _, p := range cfg.Providers {
		add("provider_accounts", true, p.Accounts...)
		add("provider_networks", false, p.Networks...)
		add("provider_operators", true, p.Operators...)
		add("rmm_tools", false, p.RMMTools...)
	}
	add("internal_networks", false, cfg.InternalNetworks...)
	add("privileged_groups", false, cfg.PrivilegedGroups...)
	add("servers", true, cfg.Servers...)
	add("ioc_ips", false, cfg.IOCs.IPs...)
	add("ioc_domains", true, cfg.IOCs.Domains...)
	add("ioc_hashes", false, cfg.IOCs.Hashes...)
	return out
}
