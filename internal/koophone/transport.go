package koophone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// TransportOptions shape the connection to the API. The zero value means
// the system's CAs, TLS verification on, proxies from the environment.
type TransportOptions struct {
	// ExtraCAPEM holds PEM certificates trusted in addition to the
	// system's, for an endpoint behind a private CA (a corporate proxy).
	ExtraCAPEM []byte
	// InsecureSkipVerify turns TLS certificate verification off.
	InsecureSkipVerify bool
	// ProxyEnv, when set, replaces the environment's HTTPS_PROXY,
	// HTTP_PROXY and NO_PROXY, and DialContext the network: tests use them.
	ProxyEnv    *httpproxy.Config
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ParseCAPEM parses PEM certificates and fails when there is no usable one.
// Its error is worded for diagnostics.
func ParseCAPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("the PEM data contains a %q block; only CERTIFICATE blocks are accepted (never put a private key here)", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d cannot be parsed: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found: expected one or more blocks starting with -----BEGIN CERTIFICATE-----")
	}
	return certs, nil
}

// newTransport returns the client's own connection pool: the default
// transport, keeping as many idle connections as the client has requests in
// flight (not two, which would close the others after each request), with
// the environment's proxies read now (http.ProxyFromEnvironment freezes the
// environment of the process's first request).
func newTransport(opts TransportOptions, maxConns int) (*http.Transport, error) {
	proxyConfig := opts.ProxyEnv
	if proxyConfig == nil {
		proxyConfig = httpproxy.FromEnvironment()
	}
	proxyFunc := proxyConfig.ProxyFunc()
	t := http.DefaultTransport.(*http.Transport).Clone() //nolint:forcetypeassert // the standard library's documented type
	t.Proxy = func(req *http.Request) (*url.URL, error) { return proxyFunc(req.URL) }
	t.MaxIdleConnsPerHost = maxConns
	if opts.DialContext != nil {
		t.DialContext = opts.DialContext
	}
	t.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: opts.InsecureSkipVerify, //nolint:gosec // the user asked for it, and the provider warns on every plan
	}
	if len(opts.ExtraCAPEM) > 0 {
		certs, err := ParseCAPEM(opts.ExtraCAPEM)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}
