package audit

// Events of share backups, on the relay and in each home's own log.
const (
	// EventBackupExported: a released backup export was written to a file
	// and used up (relay), or this home wrote one (home).
	EventBackupExported = "backup.exported"
	// EventBackupTested: paratro share backup verify opened a backup file
	// and compared it with the wallet (outcome ok, stale or failed).
	EventBackupTested = "backup.tested"
	// EventBackupRestored: paratro share restore stored a backup's share.
	EventBackupRestored = "backup.restored"
)
