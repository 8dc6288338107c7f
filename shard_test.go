package synack

import (
	"flag"
	"os"
	"testing"
)

var shardsFlag = flag.Int("shards", 1, "the shard count of every Stack whose Config leaves Shards 0 (and sets no Recorder)")

func TestMain(m *testing.M) {
	flag.Parse()
	defaultShards = *shardsFlag
	os.Exit(m.Run())
}
