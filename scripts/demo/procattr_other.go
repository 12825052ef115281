//go:build !linux

package main

import "syscall"

func childAttr(keep bool) *syscall.SysProcAttr {
	if keep {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return nil
}
