package event

import "strings"

// Event.Action's words, one vocabulary for the ingesters that write them
// and the analyzers and reports that read them.
//
// Connection outcomes, as the firewall ingesters normalise vendor words
// (accept, permit, pass → allow; block, denied → deny; …); a word outside
// this set is kept lower-cased as the device wrote it.
const (
	ActionAllow  = "allow"
	ActionDeny   = "deny"
	ActionDrop   = "drop"
	ActionReject = "reject"
	ActionClose  = "close"
	ActionOpen   = "open"
	ActionReset  = "reset"
)

// Remote-management actions, as the RMM ingesters and declarative RMM
// formats write them.
const (
	ActionSessionStart    = "session_start"
	ActionSessionEnd      = "session_end"
	ActionLogin           = "login"
	ActionLoginFailed     = "login_failed"
	ActionFileTransfer    = "file_transfer"
	ActionCommand         = "command"
	ActionConnect         = "connect"
	ActionOutgoingSession = "outgoing_session"
)

// Blocked reports whether an action (normalised, or a vendor word a
// declarative format passed on) says the connection was stopped.
func Blocked(action string) bool {
	switch strings.ToLower(action) {
	case ActionDeny, "denied", ActionDrop, "dropped", "block", "blocked", ActionReject, "rejected", "close-deny", "server-rst":
		return true
	}
	return false
}
