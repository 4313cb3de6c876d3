package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

// setupTelemetry starts tracing (OTLP when the OTEL_EXPORTER_OTLP_*
// variables say so, nothing otherwise) and the Prometheus registry.
func (d *daemon) setupTelemetry(ctx context.Context) error {
	tp, flush, err := telemetry.SetupTracing(ctx, telemetry.TraceOptions{ServiceVersion: version})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	d.tp, d.tracer, d.flush = tp, tp.Tracer("amigo"), flush
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if d.metrics, err = telemetry.NewMetrics(reg); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// close flushes the spans still buffered, within a bounded time.
func (d *daemon) close() {
	if d.flush == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.flush(ctx); err != nil {
		d.log.WithError(err).Warn("flush traces")
	}
}
