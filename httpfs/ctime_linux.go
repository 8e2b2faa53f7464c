package httpfs

import "syscall"

// statCtime is the file's change time in nanoseconds.
func statCtime(st *syscall.Stat_t) int64 { return st.Ctim.Sec*1e9 + st.Ctim.Nsec }
