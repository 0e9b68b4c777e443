// Package qunguan holds files embedded into the binary: the example
// configuration, which `qunguan check-config --example` prints.
package qunguan

import _ "embed"

// ExampleConfig is config.example.yaml: every key with a comment above it.
//
//go:embed config.example.yaml
var ExampleConfig []byte
