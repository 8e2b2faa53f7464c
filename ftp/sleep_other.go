//go:build !linux

package ftp

import "time"

// sleepPrecisely sleeps for d, as precisely as the runtime's timers allow here.
func sleepPrecisely(d time.Duration) { time.Sleep(d) }
