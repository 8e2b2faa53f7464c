package daemon

// FilesConfig is the [files] section: limits of the shared file tree
// (internal/filestore) that every service writing to it applies.
type FilesConfig struct {
	Quota             int64 `toml:"quota_bytes" comment:"Bytes one account's files may use together; 0 means no quota"`
	MaxFileSize       int64 `toml:"max_file_bytes" comment:"Bytes one file may have; 0 means no limit"`
	AnonymousWritable bool  `toml:"anonymous_writable" comment:"Let anonymous users upload to and change the anonymous area"`
}
