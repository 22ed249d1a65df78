package sdktest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodePackages are the stripe-node releases node/package.json installs:
// stripe-node 8 (which sends no version: the flow asks for the one its
// types declare), 12, 14, 16, 17, 18, 22 and the newest on npm.
var nodePackages = []string{"stripe8", "stripe12", "stripe14", "stripe16", "stripe17", "stripe18", "stripe22", "stripe"}

// TestStripeNode runs node/flow.mjs, the flow through each stripe-node
// release unmodified, each against its own verso serve. It needs node and
// `npm ci` run in node/ (the CI block does both); without them it skips and
// says so.
func TestStripeNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: install Node.js 20 or newer and run `npm ci` in sdktest/node")
	}
	for _, pkg := range nodePackages {
		t.Run(pkg, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("node", "node_modules", pkg, "package.json"))
			if err != nil {
				t.Skipf("%s is not installed: run `npm ci` in sdktest/node", pkg)
			}
			var m struct{ Version string }
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			url, key := serve(t)
			cmd := exec.Command(node, "flow.mjs", url, key, pkg)
			cmd.Dir = "node"
			out, err := cmd.CombinedOutput()
			t.Logf("stripe-node %s: node flow.mjs:\n%s", m.Version, out)
			if err != nil {
				t.Fatalf("node flow.mjs %s: %v", pkg, err)
			}
		})
	}
}
