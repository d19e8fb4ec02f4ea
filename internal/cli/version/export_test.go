package version

// Run exposes versionRun to the external tests.
var Run = versionRun
