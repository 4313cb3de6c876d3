package telemetry

import (
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/term"
)

// NewLogger returns a logger writing to w at level (logrus names: debug,
// info, warn, error), as JSON for the daemon's log collector or as text
// for a person at a terminal (see IsTerminal), with TraceHook installed.
// An unknown level falls back to info and says so in the log.
func NewLogger(w io.Writer, level string, json bool) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	if json {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	}
	l.AddHook(TraceHook{})
	lv, err := logrus.ParseLevel(level)
	if err != nil {
		l.SetLevel(logrus.InfoLevel)
		l.WithField("level", level).Warn("unknown log level; logging at info")
		return l
	}
	l.SetLevel(lv)
	return l
}

// IsTerminal reports whether f is a terminal, where text logs read better
// than JSON.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// TraceHook adds trace_id and span_id to every entry whose context
// (Entry.WithContext) carries a span that is recording or was sampled, so
// that a log line inside a pass leads to its trace. A sampled span counts
// after it ended: a pass often logs the outcome of a step just after
// ending the step's span.
type TraceHook struct{}

var _ logrus.Hook = TraceHook{}

// Levels are all levels.
func (TraceHook) Levels() []logrus.Level { return logrus.AllLevels }

// Fire adds the fields. logrus hands hooks a copy of the entry's Data,
// so writing to it leaves the caller's Entry alone.
func (TraceHook) Fire(e *logrus.Entry) error {
	if e.Context == nil {
		return nil
	}
	span := trace.SpanFromContext(e.Context)
	sc := span.SpanContext()
	if !sc.IsValid() || !(span.IsRecording() || sc.IsSampled()) {
		return nil
	}
	if e.Data == nil {
		e.Data = logrus.Fields{}
	}
	e.Data["trace_id"] = sc.TraceID().String()
	e.Data["span_id"] = sc.SpanID().String()
	return nil
}
