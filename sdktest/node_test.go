package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStripeNode runs node/flow.mjs, the flow through stripe-node
// unmodified (the version node/package-lock.json names), against its own
// verso serve. It needs node and `npm ci` run in node/ (the CI block does
// both); without them it skips and says so.
func TestStripeNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: install Node.js 20 or newer and run `npm ci` in sdktest/node")
	}
	if _, err := os.Stat(filepath.Join("node", "node_modules", "stripe", "package.json")); err != nil {
		t.Skip("stripe-node is not installed: run `npm ci` in sdktest/node")
	}
	url, key := serve(t)
	cmd := exec.Command(node, "flow.mjs", url, key)
	cmd.Dir = "node"
	out, err := cmd.CombinedOutput()
	t.Logf("node flow.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("node flow.mjs: %v", err)
	}
}
