package awsjson

import (
	"context"
	"encoding/json"
	"reflect"
)

// Handler is one operation as Service calls it. Build one with Op.
type Handler interface {
	// decode parses a validated request body into the operation's input and
	// returns the call to make with it. Decoding is separate from calling
	// so that Service can tell a body it cannot decode (a client error)
	// from an error the operation returns. A non-nil blob is a member
	// decodeFast took out of the body (which holds "" in its place); it is
	// set on the input after decoding, or decode fails if the input has no
	// []byte field tagged with its name.
	decode(body []byte, blob *blobValue) (call func(context.Context) (any, error), err error)
}

// Op adapts a typed operation to a Handler. I and O are structs whose json
// tags are the model's member names (exactly: Service drops body keys that
// differ from a member name only in case, because encoding/json would
// otherwise match them to a field). A nil *O with a nil error is sent as {}.
func Op[I, O any](fn func(ctx context.Context, in *I) (*O, error)) Handler {
	return opHandler[I, O]{fn: fn}
}

type opHandler[I, O any] struct {
	fn func(context.Context, *I) (*O, error)
}

func (h opHandler[I, O]) decode(body []byte, blob *blobValue) (func(context.Context) (any, error), error) {
	in := new(I)
	var field reflect.Value
	if blob != nil {
		// Look the field up first, so an unfit input struct costs nothing.
		var ok bool
		if field, ok = blobField(reflect.ValueOf(in).Elem(), blob.name); !ok {
			return nil, errNoBlobField
		}
	}
	if err := json.Unmarshal(body, in); err != nil {
		return nil, err
	}
	if blob != nil {
		field.SetBytes(blob.data)
	}
	return func(ctx context.Context) (any, error) {
		out, err := h.fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return struct{}{}, nil
		}
		return out, nil
	}, nil
}
