package temporal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func newKey(t *testing.T, id string) (Key, string) {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Secret: secret}, id + ":" + base64.StdEncoding.EncodeToString(secret)
}

func TestCodecEncryptsAndRotates(t *testing.T) {
	oldKey, _ := newKey(t, "k1")
	newK, _ := newKey(t, "k2")
	dc := converter.GetDefaultDataConverter()
	plain, err := dc.ToPayload(map[string]string{"email": "mia@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := NewCodec([]Key{oldKey})
	if err != nil {
		t.Fatal(err)
	}
	encOld, err := before.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(encOld[0].Data, []byte("mia@example.com")) {
		t.Fatal("encrypted payload contains the email in clear text")
	}
	// After rotation, the new key encrypts and the old payload still decrypts.
	after, err := NewCodec([]Key{newK, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := after.Decode(encOld)
	if err != nil {
		t.Fatalf("decode old payload after rotation: %v", err)
	}
	var got map[string]string
	if err := dc.FromPayload(dec[0], &got); err != nil || got["email"] != "mia@example.com" {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	encNew, err := after.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if id := string(encNew[0].Metadata[MetadataKeyID]); id != "k2" {
		t.Fatalf("new payloads encrypted with %q, want k2", id)
	}
	if _, err := before.Decode(encNew); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("decode with a codec lacking the key: err = %v", err)
	}
	encNew[0].Data[len(encNew[0].Data)-1] ^= 1
	if _, err := after.Decode(encNew); err == nil {
		t.Fatal("tampered payload decoded without error")
	}
}

func TestParseKeys(t *testing.T) {
	_, good := newKey(t, "dev-1")
	tests := []struct {
		name, in, wantErr string
		want              int
	}{
		{"one key", good, "", 1},
		{"two keys", good + "," + strings.Replace(good, "dev-1", "dev-0", 1), "", 2},
		{"empty", "", "no payload keys", 0},
		{"no id", ":" + strings.SplitN(good, ":", 2)[1], "want id:base64", 0},
		{"short key", "k:" + base64.StdEncoding.EncodeToString([]byte("short")), "want 32", 0},
		{"not base64", "k:!!!", "illegal base64", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), strings.SplitN(good, ":", 2)[1]) {
					t.Fatal("error message leaks the key")
				}
				return
			}
			if err != nil || len(keys) != tt.want {
				t.Fatalf("keys = %d, err = %v", len(keys), err)
			}
		})
	}
}
