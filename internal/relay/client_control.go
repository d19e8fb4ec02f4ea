package relay

import (
	"context"
	"net/http"
	"net/url"
)

// SetOTP gives a TOTP code to the client's next state-changing call (POST,
// PATCH or DELETE), which sends it in the Paratro-OTP header; the code is
// then forgotten.
func (c *Client) SetOTP(code string) {
	c.mu.Lock()
	c.otp = code
	c.mu.Unlock()
}

// Do sends a signed API call: in (when not nil) as JSON, a 2xx answer
// decoded into out (when not nil); transient failures are retried until
// ctx ends. Errors from the relay are *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, path, nil, in, out)
}

// Info returns the relay's public facts (GET /v1/relay).
func (c *Client) Info(ctx context.Context) (*RelayInfo, error) {
	var info RelayInfo
	return &info, c.do(ctx, http.MethodGet, "/v1/relay", nil, nil, &info)
}

// Whoami returns the caller as an operator of the relay.
func (c *Client) Whoami(ctx context.Context) (*OperatorView, error) {
	var out struct {
		Operator OperatorView `json:"operator"`
	}
	return &out.Operator, c.do(ctx, http.MethodGet, "/v1/whoami", nil, nil, &out)
}

// Operators lists the relay's operators.
func (c *Client) Operators(ctx context.Context) ([]OperatorView, error) {
	var out struct {
		Operators []OperatorView `json:"operators"`
	}
	return out.Operators, c.do(ctx, http.MethodGet, "/v1/operators", nil, nil, &out)
}

// AddOperator admits a registered identity (name or fingerprint) with role,
// or changes its role.
func (c *Client) AddOperator(ctx context.Context, who string, role Role) (*OperatorView, error) {
	var out OperatorView
	return &out, c.do(ctx, http.MethodPost, "/v1/operators", nil, AddOperator{Identity: who, Role: role}, &out)
}

// RemoveOperator takes an operator's membership away.
func (c *Client) RemoveOperator(ctx context.Context, who string) (*Member, error) {
	var out Member
	return &out, c.do(ctx, http.MethodDelete, "/v1/operators/"+url.PathEscape(who), nil, nil, &out)
}

// CreateAPIKey makes an API key acting for the caller; the key is in the
// answer only.
func (c *Client) CreateAPIKey(ctx context.Context, name string) (*CreatedAPIKey, error) {
	var out CreatedAPIKey
	return &out, c.do(ctx, http.MethodPost, "/v1/api-keys", nil, CreateAPIKey{Name: name}, &out)
}

// APIKeys lists the caller's API keys (an owner's lists everyone's).
func (c *Client) APIKeys(ctx context.Context) ([]APIKey, error) {
	var out struct {
		Keys []APIKey `json:"api_keys"`
	}
	return out.Keys, c.do(ctx, http.MethodGet, "/v1/api-keys", nil, nil, &out)
}

// RevokeAPIKey revokes the key with ID id.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (*APIKey, error) {
	var out APIKey
	return &out, c.do(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(id), nil, nil, &out)
}

// MFAEnroll starts a TOTP enrolment and returns the new secret.
func (c *Client) MFAEnroll(ctx context.Context) (*Enrollment, error) {
	var out Enrollment
	return &out, c.do(ctx, http.MethodPost, "/v1/mfa/enroll", nil, nil, &out)
}

// MFAConfirm confirms the enrolment with its first code (given to SetOTP).
func (c *Client) MFAConfirm(ctx context.Context) (*MFAStatus, error) {
	var out MFAStatus
	return &out, c.do(ctx, http.MethodPost, "/v1/mfa/confirm", nil, nil, &out)
}

// MFAStatus returns the caller's TOTP status.
func (c *Client) MFAStatus(ctx context.Context) (*MFAStatus, error) {
	var out MFAStatus
	return &out, c.do(ctx, http.MethodGet, "/v1/mfa", nil, nil, &out)
}
