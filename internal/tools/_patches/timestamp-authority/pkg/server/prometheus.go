// Copyright 2022 The Sigstore Authors.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// This file replaces pkg/server/prometheus.go of
// github.com/sigstore/timestamp-authority/v2 v2.1.3 when install.sh builds
// timestamp-server (go build -overlay). Upstream always listens for metrics
// on :2112, on every interface, and exits when that port is taken, so two
// servers cannot run on one machine. Here the address comes from
// TIMESTAMP_SERVER_METRICS_ADDR (for example 127.0.0.1:0), and stays :2112
// when that is unset.

package server

import (
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewPrometheusServer creates a server for serving prometheus metrics
func NewPrometheusServer(readTimeout, writeTimeout time.Duration) *http.Server {
	addr := os.Getenv("TIMESTAMP_SERVER_METRICS_ADDR")
	if addr == "" {
		addr = ":2112"
	}
	return &http.Server{
		Addr:         addr,
		ReadTimeout:  readTimeout,
		WriteTimeout: writeTimeout,
		Handler:      promhttp.Handler(),
	}
}
