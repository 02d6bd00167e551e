package auth

import (
	"fmt"
	"net/http"
	"time"
)

// amzDateLayout is ISO 8601 basic format in UTC, as X-Amz-Date carries it
// and as the string to sign and AWS's skew messages print times.
const amzDateLayout = "20060102T150405Z"

// requestTime reads the signing time from X-Amz-Date or, when that header
// is absent, from Date. fromAmzDate says which one it came from.
func requestTime(r *http.Request) (t time.Time, fromAmzDate bool, err *Error) {
	if vs := r.Header.Values("X-Amz-Date"); len(vs) > 0 {
		if len(vs) == 1 {
			t, perr := time.Parse(amzDateLayout, vs[0])
			// Format must give the same string back: time.Parse alone
			// accepts one-digit hours and the like.
			if perr == nil && t.Format(amzDateLayout) == vs[0] {
				return t, true, nil
			}
		}
		return time.Time{}, true, refuse(TypeIncompleteSignature,
			fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(r.Header.Get("X-Amz-Date"))),
			"malformed X-Amz-Date", "")
	}
	vs := r.Header.Values("Date")
	if len(vs) == 0 {
		return time.Time{}, false, refuse(TypeIncompleteSignature, msgNoDate, "no X-Amz-Date or Date header", "")
	}
	if len(vs) == 1 {
		if t, perr := http.ParseTime(vs[0]); perr == nil {
			return t.UTC(), false, nil
		}
	}
	return time.Time{}, false, refuse(TypeIncompleteSignature,
		fmt.Sprintf("Date header must be an HTTP date such as 'Mon, 02 Jan 2006 15:04:05 GMT'. Got '%s'.", clip(r.Header.Get("Date"))),
		"malformed Date", "")
}

// checkSkew refuses a request signed more than maxSkew before or after now,
// in AWS's words: SDKs recognise these InvalidSignatureExceptions as clock
// skew, correct their clock from the response's Date header and retry.
func checkSkew(reqTime, now time.Time, maxSkew time.Duration) *Error {
	now = now.UTC()
	switch {
	case reqTime.Before(now.Add(-maxSkew)):
		return refuse(TypeInvalidSignature,
			fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
				reqTime.Format(amzDateLayout), now.Add(-maxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skewWords(maxSkew)),
			"request time "+now.Sub(reqTime).Round(time.Second).String()+" in the past", "")
	case reqTime.After(now.Add(maxSkew)):
		return refuse(TypeInvalidSignature,
			fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
				reqTime.Format(amzDateLayout), now.Add(maxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skewWords(maxSkew)),
			"request time "+reqTime.Sub(now).Round(time.Second).String()+" in the future", "")
	}
	return nil
}

// skewWords prints the window as AWS does ("15 min."), falling back to Go's
// notation for a window that is not whole minutes.
func skewWords(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return d.String() + "."
}
