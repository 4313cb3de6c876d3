package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// testSecret is the secret the deliveries under testdata/ were signed with.
const testSecret = "webhook-secret"

// delivery is one real Gitea 1.26 webhook delivery from testdata/.
type delivery struct {
	body   []byte
	header http.Header
}

func loadDelivery(tb testing.TB, name string) delivery {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		tb.Fatalf("read delivery: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", name+".headers.json"))
	if err != nil {
		tb.Fatalf("read delivery headers: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("decode delivery headers: %v", err)
	}
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return delivery{body: body, header: h}
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// deliveryNames lists every delivery copied into testdata/.
var deliveryNames = []string{
	"01-push", "02-pull_request-opened", "04-pull_request-synchronized",
	"05-pull_request-closed", "06-push",
}
