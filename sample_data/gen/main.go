// Command gen writes the sample data set (see package sampledata).
//
// Usage:
//
//	go run ./sample_data/gen -out sample_data
package main

import (
	"flag"
	"fmt"
	"os"

	sampledata "github.com/segment-dev/segment/sample_data"
)

func main() {
	out := flag.String("out", ".", "folder to write train/ and val/ into")
	flag.Parse()
	if err := sampledata.Generate(*out, sampledata.DefaultConfig); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
