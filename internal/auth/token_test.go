package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/auth"
)

func TestTokenRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tokens := &auth.Tokens{Key: []byte(strings.Repeat("k", 32)), TTL: 12 * time.Hour, Now: func() time.Time { return now }}
	pw, exp := tokens.Issue("111111111111", "AKIDA", true)
	if !exp.Equal(now.Add(12 * time.Hour)) {
		t.Fatalf("expires %v", exp)
	}
	user, got, err := auth.DecodeAuthorizationToken(auth.EncodeAuthorizationToken(pw))
	if err != nil || user != "AWS" || got != pw {
		t.Fatalf("authorization token decodes to %q:%q, %v", user, got, err)
	}

	t.Run("Valid", func(t *testing.T) {
		c, err := tokens.Verify(pw, "111111111111")
		if err != nil || c.Account != "111111111111" || c.AccessKeyID != "AKIDA" || !c.ReadOnly || !c.ExpiresAt.Equal(exp) {
			t.Fatalf("Verify = %+v, %v", c, err)
		}
	})
	t.Run("OtherAccount", func(t *testing.T) {
		if _, err := tokens.Verify(pw, "222222222222"); !errors.Is(err, auth.ErrTokenAccount) {
			t.Fatalf("got %v, want ErrTokenAccount", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		later := *tokens
		later.Now = func() time.Time { return now.Add(12*time.Hour + time.Second) }
		if _, err := later.Verify(pw, "111111111111"); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("got %v, want ErrTokenExpired", err)
		}
		later.Now = func() time.Time { return now.Add(12*time.Hour - time.Second) }
		if _, err := later.Verify(pw, "111111111111"); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
	})
	t.Run("EveryByteChanged", func(t *testing.T) {
		for i := 0; i < len(pw); i++ {
			for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
				if pw[i] == c {
					continue
				}
				bad := pw[:i] + string(c) + pw[i+1:]
				if _, err := tokens.Verify(bad, "111111111111"); err == nil {
					t.Fatalf("changing byte %d to %q still verifies", i, c)
				}
			}
		}
		if _, err := tokens.Verify(pw+"x", "111111111111"); err == nil {
			t.Fatal("an appended byte still verifies")
		}
		if _, err := tokens.Verify(pw[:len(pw)-1], "111111111111"); err == nil {
			t.Fatal("a truncated token still verifies")
		}
	})
	t.Run("OtherKey", func(t *testing.T) {
		other := &auth.Tokens{Key: []byte(strings.Repeat("j", 32)), TTL: time.Hour, Now: tokens.Now}
		if _, err := other.Verify(pw, "111111111111"); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Fatalf("a token verifies under another server key: %v", err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		for _, s := range []string{"", ".", "ecrd1.", "ecrd1..", "x.y", "ecrd1.e30.AAAA", strings.Repeat("a", 5000)} {
			if _, err := tokens.Verify(s, "111111111111"); !errors.Is(err, auth.ErrTokenInvalid) {
				t.Errorf("Verify(%q) = %v, want ErrTokenInvalid", s, err)
			}
		}
	})
}
