// Package proxies holds the configurations that put transdbd in front of
// a backend with nginx (nginx/), Caddy (caddy/) and HAProxy (haproxy/),
// and their end-to-end tests: the tests start transdbd, a backend that
// echoes what it receives and each proxy with the shipped files, on
// loopback ports, and send real requests through the proxy. It has no
// code of its own.
package proxies
