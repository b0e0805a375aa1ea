package rules

import "embed"

// SigmaFS holds the SigmaHQ Windows rules shipped with spoor
// (sigma/windows/**.yml), the SigmaHQ commit they were taken from
// (sigma/COMMIT) and their licence (sigma/LICENSE.md, DRL 1.1; see
// sigma/NOTICE). They are kept as SigmaHQ publishes them, so a newer release
// can replace them file for file.
//
//go:embed sigma
var SigmaFS embed.FS
