// Package analyzers holds spoor's stateful detections: each sees every
// event once and, at the end, reports findings that single-event rules
// cannot see (baselines, sessions, bursts, sequences).
package analyzers

import (
	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/analyzers/coverage"
	"github.com/spoor-dfir/spoor/analyzers/lateral"
	"github.com/spoor-dfir/spoor/analyzers/newadmin"
	"github.com/spoor-dfir/spoor/analyzers/offhours"
	"github.com/spoor-dfir/spoor/analyzers/outbound"
	"github.com/spoor-dfir/spoor/analyzers/persistence"
	"github.com/spoor-dfir/spoor/analyzers/psrecon"
	"github.com/spoor-dfir/spoor/analyzers/rmmsessions"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Analyzer is one stateful detection.
type Analyzer interface {
	// Name is the value of Finding.Analyzer (offhours, rmmsessions, …).
	Name() string
	// Observe is called once per event, from one goroutine, in store
	// order (not necessarily time order). ev is reused after the call:
	// copy what you keep, and keep only what you need (memory is bounded
	// by what analyzers retain).
	Observe(ev *event.Event)
	// Finish returns the findings, deterministically ordered.
	Finish() []event.Finding
}

// Selective is an Analyzer that says, as data, which events it reads
// and which of their columns: the hunt then decodes nothing else for it
// and calls Observe only with those events (with at least those columns
// filled). Analyzers that do not implement it see every event, whole.
type Selective interface {
	// Wants is asked once, before the first Observe: the kinds of event
	// Observe reads (source, channel, event ids) and the store columns it
	// reads of each (nil for all; raw fields are then read with
	// Event.Field). Observe must ignore every other event (a test holds
	// each analyzer to it).
	Wants() akit.Wants
}

// All returns the analyzers for a case, in a fixed order. The list is
// explicit: a new analyzer is added here.
func All(cfg *caseconf.Config) []Analyzer {
	if cfg == nil {
		cfg = caseconf.Default()
	}
	// The RMM sessions are rebuilt and judged once, by the set, for
	// every analyzer (and triage) that reads them; it comes first, so
	// that a driver running the list one analyzer after the other feeds
	// it first.
	ss := akit.NewSessionSet(cfg)
	return []Analyzer{
		ss,
		offhours.NewWith(cfg, ss),
		rmmsessions.NewWith(cfg, ss),
		psrecon.NewWith(cfg, ss),
		newadmin.New(cfg),
		outbound.New(cfg),
		persistence.NewWith(cfg, ss),
		lateral.New(cfg),
		coverage.New(cfg),
	}
}

// Info describes one analyzer for people (spoor rules list).
type Info struct {
	Name, What string
}

// Describe lists the analyzers of All, in the same order, with what each
// looks for.
func Describe() []Info {
	return []Info{
		{offhours.Name, "provider logons and RMM sessions outside business hours and outside the identity's own pattern"},
		{rmmsessions.Name, "RMM sessions that differ from the operator's baseline (time, source address, target, length)"},
		{psrecon.Name, "reconnaissance in PowerShell, command lines and RMM commands: bursts of discovery kinds, decoding, credential tools"},
		{newadmin.Name, "new accounts, enabled or reset accounts and privileged group changes, and who made them"},
		{outbound.Name, "outbound connections to destinations new against the baseline, large uploads, IOC addresses"},
		{persistence.Name, "new scheduled tasks, services, autoruns and WMI subscriptions against the host's baseline and the provider's pattern"},
		{lateral.Name, "remote execution (PsExec-style services, WMI, DCOM, WinRM) and RDP logons against each identity's own baseline, RDP from loopback"},
		{coverage.Name, "what the evidence covers per host and log, gaps and cleared logs, so that \"not found\" has a basis"},
	}
}
