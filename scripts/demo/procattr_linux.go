package main

import "syscall"

// childAttr makes a server die with the demo, even when the demo itself is killed
// (a closed pipe, kill -9), unless it is meant to keep running.
func childAttr(keep bool) *syscall.SysProcAttr {
	if keep {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
