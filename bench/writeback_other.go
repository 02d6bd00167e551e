//go:build !linux

package main

import "os"

func startWriteback(*os.File, int64, int64) {}
