package ftp

import (
	"syscall"
	"time"
)

// sleepPrecisely sleeps for d on the kernel's high-resolution timer,
// blocking the thread. The runtime's timers cannot do sub-millisecond
// waits: when nothing else runs, the scheduler waits for them in
// epoll_pwait, whose timeout is whole milliseconds, so time.Sleep(250µs)
// takes a millisecond or more.
func sleepPrecisely(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
