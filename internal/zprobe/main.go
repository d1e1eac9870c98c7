package main

import (
	"os"
	"runtime/pprof"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

func main() {
	f, _ := os.Create(os.Args[2])
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	for i := 0; i < 30; i++ {
		rs, err := detect.LoadFSForEngine(rules.Builtin(), ".")
		if err != nil {
			panic(err)
		}
		if os.Args[1] == "new" {
			if _, err = detect.New(rs, detect.Config{}); err != nil {
				panic(err)
			}
		}
	}
}
