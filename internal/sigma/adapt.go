package sigma

import (
	"fmt"
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

// casePlaceholders are the %placeholders% a case config fills, each with
// the case key it is read from (named in load errors) and whether the
// values are glob patterns.
var casePlaceholders = []struct {
	name, key string
	globs     bool
	values    func(cfg *caseconf.Config) []string
}{
	{"provider_accounts", "providers[].accounts", true, func(c *caseconf.Config) []string {
		return providerList(c, func(p caseconf.Provider) []string { return p.Accounts })
	}},
	{"provider_networks", "providers[].networks", false, func(c *caseconf.Config) []string {
		return providerList(c, func(p caseconf.Provider) []string { return p.Networks })
	}},
	{"provider_operators", "providers[].operators", true, func(c *caseconf.Config) []string {
		return providerList(c, func(p caseconf.Provider) []string { return p.Operators })
	}},
	{"rmm_tools", "providers[].rmm_tools", false, func(c *caseconf.Config) []string {
		return providerList(c, func(p caseconf.Provider) []string { return p.RMMTools })
	}},
	{"internal_networks", "internal_networks", false, func(c *caseconf.Config) []string { return c.InternalNetworks }},
	{"privileged_groups", "privileged_groups", false, func(c *caseconf.Config) []string { return c.PrivilegedGroups }},
	{"servers", "servers", true, func(c *caseconf.Config) []string { return c.Servers }},
	{"ioc_ips", "iocs.ips", false, func(c *caseconf.Config) []string { return c.IOCs.IPs }},
	{"ioc_domains", "iocs.domains", true, func(c *caseconf.Config) []string { return c.IOCs.Domains }},
	{"ioc_hashes", "iocs.hashes", false, func(c *caseconf.Config) []string { return c.IOCs.Hashes }},
}

func providerList(cfg *caseconf.Config, f func(caseconf.Provider) []string) []string {
	var out []string
	for _, p := range cfg.Providers {
		out = append(out, f(p)...)
	}
	return out
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
// Empty lists are left out: a rule using one then fails to load, naming
// the case key to fill, instead of silently matching nothing.
func CasePlaceholders(cfg *caseconf.Config) map[string][]string {
	if cfg == nil {
		return nil
	}
	out := map[string][]string{}
	for _, p := range casePlaceholders {
		for _, v := range p.values(cfg) {
			if v == "" {
				continue
			}
			if p.globs {
				v = strings.ReplaceAll(v, `\`, `\\`)
			}
			out[p.name] = append(out[p.name], v)
		}
	}
	return out
}

// placeholderHelp says where a placeholder without values gets them.
func placeholderHelp(name string) string {
	for _, p := range casePlaceholders {
		if p.name == name {
			return fmt.Sprintf("placeholder %%%s%% has no value: set %s in the case config (--case)", name, p.key)
		}
	}
	names := make([]string, len(casePlaceholders))
	for i, p := range casePlaceholders {
		names[i] = "%" + p.name + "%"
	}
	return fmt.Sprintf("unknown placeholder %%%s%% (the case config fills %s)", name, strings.Join(names, ", "))
}
