#!/usr/bin/env bash
# check-docs.sh checks verso's generated pages in a real browser: it writes
# the demo's static reference site (verso docs) and an upgrade guide, then
# opens each page in headless Chromium at a desktop (1280x900) and a phone
# (390x844) width and checks, in the page itself:
#   - the contents (the navigation) come first on the screen at phone
#     width, beside the main content at desktop width;
#   - nothing is wider than the screen (no sideways scrolling);
#   - the skip link points at the content;
# and saves a screenshot of each page at each width for a person to look at.
#
# Usage: scripts/check-docs.sh [OUT_DIR]   (default: a temporary folder)
# Needs: go, chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out/site" "$out/shots" "$out/probe"
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "check-docs: no chromium; install it with: apt-get install chromium" >&2
  exit 1
fi

go build -o "$out/verso" ./cmd/verso
"$out/verso" docs -f demo/api/timeline.yaml --spec demo/api/openapi.yaml --samples changelog/samples --out "$out/site" 2>/dev/null
"$out/verso" changelog -f demo/api/timeline.yaml --guide --from 2014-12-22 --format html \
  --samples changelog/samples > "$out/site/guide.html"

# The probe: appended to a copy of each page, it writes what it measured
# into the DOM, which Chromium dumps.
probe='<script>
addEventListener("load", function () {
  var m = document.querySelector("main"), n = document.querySelector("nav.toc"), s = document.querySelector("a.skip");
  var r = [];
  var mt = m.getBoundingClientRect(), nt = n.getBoundingClientRect();
  var phone = innerWidth < 700;
  if (phone && !(nt.top < mt.top)) r.push("contents-not-first-on-phone");
  if (!phone && !(nt.right <= mt.left + 1)) r.push("navigation-not-beside-content");
  if (document.documentElement.scrollWidth > innerWidth + 1) r.push("wider-than-screen:" + document.documentElement.scrollWidth);
  if (!s || s.getAttribute("href") !== "#" + m.id) r.push("no-skip-link");
  var p = document.createElement("output");
  p.id = "probe";
  p.textContent = r.length ? "FAIL " + r.join(" ") : "OK";
  document.body.appendChild(p);
});
</script>'

pages=(index.html 2014-12-22.html 9999-12-31.preview.html changelog.html guide.html)
fail=0
for page in "${pages[@]}"; do
  cp "$out/site/$page" "$out/probe/$page"
  printf '%s\n' "$probe" >> "$out/probe/$page"
  for size in 1280,900 390,844; do
    name="${page%.html}-${size/,/x}"
    # The flags that work on a machine with no network but the loopback
    # (no background requests, a fresh profile).
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
      --disable-component-update --disable-sync --user-data-dir="$out/profile" --hide-scrollbars --window-size="$size")
    "$browser" "${flags[@]}" --screenshot="$out/shots/$name.png" "file://$out/site/$page" >/dev/null 2>&1
    result=$("$browser" "${flags[@]}" --virtual-time-budget=3000 --dump-dom "file://$out/probe/$page" 2>/dev/null |
      sed -n 's:.*<output id="probe">\([^<]*\)</output>.*:\1:p')
    echo "check-docs: $page at ${size/,/x}: ${result:-no result}"
    if [ "$result" != "OK" ]; then fail=1; fi
  done
done
echo "check-docs: screenshots in $out/shots"
exit $fail
