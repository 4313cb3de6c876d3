package main

import (
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// page is the status page at /: the last pass, one row per stack, with
// the trace that last changed each stack one click away.
type page struct {
	traceURL string

	mu      sync.Mutex
	res     reconciler.PassResult
	err     error
	at      time.Time
	trigger string
}

func (p *page) observe(trigger string, res reconciler.PassResult, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger, p.res, p.err, p.at = trigger, res, err, time.Now()
}

type pageRow struct {
	reconciler.Status
	TraceLink string
	Actions   int
}

type pageData struct {
	Revision, Trigger, Error string
	At                       time.Time
	Rows                     []pageRow
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>amigo</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
.Healthy{color:#1a7f37}.Aborted,.Blocked,.Degraded{color:#cf222e}.Progressing,.Paused{color:#9a6700}
code{font-size:12px}
</style></head><body>
<h1>amigo</h1>
{{if .At.IsZero}}<p>No pass yet.</p>{{else}}
<p>Last pass {{.At.Format "2006-01-02 15:04:05 MST"}} ({{.Trigger}}) at <code>{{.Revision}}</code>{{if .Error}}: <span class="Aborted">{{.Error}}</span>{{end}}</p>
<table><tr><th>stack</th><th>phase</th><th>step</th><th>weight</th><th>stable</th><th>new</th><th>message</th><th>trace</th></tr>
{{range .Rows}}<tr><td>{{.Stack}}</td><td class="{{.Phase}}">{{.Phase}}</td><td>{{.StepName}}</td><td>{{.Weight}}%</td>
<td>{{with .Stable}}{{.Version}} <code>{{.AMI}}</code>{{end}}</td><td>{{with .New}}{{.Version}} <code>{{.AMI}}</code>{{end}}</td>
<td>{{.Message}}</td><td>{{if .TraceLink}}<a href="{{.TraceLink}}">{{.TraceID}}</a>{{else}}<code>{{.TraceID}}</code>{{end}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	data := pageData{Revision: p.res.Revision, Trigger: p.trigger, At: p.at}
	if p.err != nil {
		data.Error = p.err.Error()
	}
	for _, sp := range p.res.Plan.Stacks {
		data.Rows = append(data.Rows, pageRow{Status: sp.Status, Actions: len(sp.Actions),
			TraceLink: traceLink(p.traceURL, sp.Status.TraceID)})
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
