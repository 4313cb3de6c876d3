package reconciler

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.yaml.in/yaml/v3"

	"github.com/amigo-gitops/amigo/desired"
)

// ParseStatusFiles reads status/<env>/<role>.yaml files. Files it cannot
// read are skipped and reported; their stacks are rebuilt from the cloud.
func ParseStatusFiles(files map[string][]byte) (map[desired.StackID]Status, error) {
	out := map[desired.StackID]Status{}
	var errs []error
	for path, data := range files {
		if !strings.HasPrefix(path, "status/") || !strings.HasSuffix(path, ".yaml") {
			continue
		}
		var s Status
		if err := yaml.Unmarshal(data, &s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		id, err := desired.ParseStackID(s.Stack)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		out[id] = s
	}
	return out, errors.Join(errs...)
}

// StatusFiles renders the status branch: one YAML file per stack and a
// STATUS.md table.
func StatusFiles(statuses []Status) (map[string][]byte, error) {
	files := make(map[string][]byte, len(statuses)+1)
	for _, s := range statuses {
		id, err := desired.ParseStackID(s.Stack)
		if err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", s.Stack, err)
		}
		files[StatusKey(id)] = data
	}
	files["STATUS.md"] = []byte(RenderTable(statuses))
	return files, nil
}

// RenderTable is the STATUS.md table, one row per stack.
func RenderTable(statuses []Status) string {
	var b strings.Builder
	b.WriteString("# amigo status\n\n")
	b.WriteString("| stack | phase | step | weight | stable | new | desired | message | trace |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range statuses {
		fmt.Fprintf(&b, "| %s | %s | %s | %d%% | %s | %s | %s | %s | %s |\n",
			s.Stack, s.Phase, cell(s.StepName), s.Weight, cellRelease(s.Stable), cellRelease(s.New),
			cell(short(s.DesiredCommit)), cell(s.Message), cell(s.TraceID))
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func cellRelease(r *Release) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", r.Version, r.AMI)
}

// writeStatus records the pass on the status branch. A stack whose actions
// failed keeps its previous status with the error as message. The trace id
// changes only with the rest of a stack's status, so a quiet pass commits
// nothing.
//
// When every status equals the one this process last wrote, the branch is
// left alone without rendering anything: a quiet pass costs no git work.
// A sweep pass writes anyway, to put back a status branch changed by hand.
func (r *Reconciler) writeStatus(ctx context.Context, repo *desired.Repo, plan Result, prev map[desired.StackID]Status, failed map[desired.StackID]error, traceID string, sweep bool) (bool, error) {
	next := make(map[desired.StackID]Status, len(plan.Stacks))
	var ordered []Status
	var changed []string
	for _, sp := range plan.Stacks {
		s := sp.Status
		if err := failed[sp.Stack]; err != nil {
			s = prev[sp.Stack]
			s.Stack = sp.Stack.String()
			s.Message = "apply failed: " + err.Error()
		}
		old, had := prev[sp.Stack]
		s.TraceID = old.TraceID
		if !had || !r.sameStatus(old, s) || len(sp.Actions) > 0 {
			s.TraceID = traceID
			changed = append(changed, fmt.Sprintf("%s %s", sp.Stack, s.Phase))
		}
		next[sp.Stack] = s
		ordered = append(ordered, s)
	}
	if len(changed) == 0 && r.written && !sweep && len(next) == len(prev) {
		r.statuses = next
		return false, nil
	}
	SortStatuses(ordered, repo.Settings)
	files, err := StatusFiles(ordered)
	if err != nil {
		return false, err
	}
	ctx, span := r.tracer.Start(ctx, "status commit")
	msg := "status: " + strings.Join(changed, ", ")
	if len(changed) == 0 {
		msg = "status"
	}
	committed, err := r.src.WriteStatus(ctx, files, msg)
	span.SetAttributes(attribute.Bool("amigo.committed", committed))
	endSpan(span, err)
	if err != nil {
		return false, fmt.Errorf("write status: %w", err)
	}
	r.statuses, r.written = next, true
	return committed, nil
}

// sameStatus compares statuses but for the trace id. Statuses this process
// wrote compare as they are; ones read back from YAML compare after a round
// trip, which is slower.
func (r *Reconciler) sameStatus(a, b Status) bool {
	a.TraceID, b.TraceID = "", ""
	if r.written {
		return reflect.DeepEqual(a, b)
	}
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// normalize makes a status compare equal to its YAML round trip.
func normalize(s Status) Status {
	data, err := yaml.Marshal(s)
	if err != nil {
		return s
	}
	var out Status
	if yaml.Unmarshal(data, &out) != nil {
		return s
	}
	return out
}

// SortStatuses orders statuses by promotion order, then role order, as
// amigo.yaml lists them.
func SortStatuses(list []Status, set desired.Settings) {
	rank := func(s Status) (int, int, string) {
		id, _ := desired.ParseStackID(s.Stack)
		return indexOf(set.Environments, id.Env), indexOf(set.Roles, id.Role), s.Stack
	}
	sort.Slice(list, func(i, j int) bool {
		ei, ri, si := rank(list[i])
		ej, rj, sj := rank(list[j])
		if ei != ej {
			return ei < ej
		}
		if ri != rj {
			return ri < rj
		}
		return si < sj
	})
}
