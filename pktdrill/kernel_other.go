//go:build !linux

package pktdrill

import "errors"

func kernelAvailable() error {
	return errors.New("--kernel needs Linux (a network namespace and a TUN device)")
}

func newKernel(mss int) (kernelBackend, error) { return nil, kernelAvailable() }
