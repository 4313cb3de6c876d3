package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// never is the health time of a target that fails its health checks.
var never = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// settle brings the world to now: refreshes progress batch by batch and
// drained targets leave their groups. Everything else (launching, health)
// is derived from timestamps when read.
func settle(s *state, now time.Time) {
	for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
		progress(s, s.Fleets[name], now)
	}
	for _, tg := range s.TargetGroups {
		kept := tg.Draining[:0]
		for _, d := range tg.Draining {
			if d.Until.After(now) {
				kept = append(kept, d)
			}
		}
		tg.Draining = kept
	}
}

// id derives a deterministic resource id from the state's sequence.
func (s *state) id(prefix string, n int) string {
	s.Seq++
	sum := sha256.Sum256([]byte(prefix + "/" + itoa(s.Seq)))
	return hex.EncodeToString(sum[:])[:n]
}

func (s *state) inService(in *instance) time.Time { return in.LaunchedAt.Add(s.LaunchTime) }

// healthyAt is when the instance's target turns healthy, never when a fault
// makes it fail its health checks.
func (s *state) healthyAt(f *fleet, in *instance) time.Time {
	if s.failing(f)[in.ID] {
		return never
	}
	return s.inService(in).Add(s.HealthyAfter)
}

// failing is the set of instances an Unhealthy fault makes fail: the newest
// ones, so that a bad version's replacements are what fails.
func (s *state) failing(f *fleet) map[string]bool {
	n := 0
	if ft := s.faultFor(f); ft != nil {
		n = ft.Unhealthy
	}
	out := map[string]bool{}
	for i := len(f.Instances) - 1; i >= 0 && len(out) < n; i-- {
		out[f.Instances[i].ID] = true
	}
	return out
}

// targetState is the instance's target health at now; ok is false while
// the instance is pending and not yet registered.
func (s *state) targetState(f *fleet, in *instance, now time.Time) (reconciler.TargetState, bool) {
	if now.Before(s.inService(in)) {
		return "", false
	}
	h := s.healthyAt(f, in)
	switch {
	case !now.Before(h):
		return reconciler.TargetHealthy, true
	case h == never && !now.Before(s.inService(in).Add(s.HealthyAfter)):
		return reconciler.TargetUnhealthy, true
	default:
		return reconciler.TargetInitial, true
	}
}

// launch starts count instances of f at time at with the given AMI,
// spreading them over the subnets round-robin.
func (s *state) launch(f *fleet, ami string, count int, at time.Time) []*instance {
	var out []*instance
	for i := 0; i < count; i++ {
		subnet := ""
		if len(f.Subnets) > 0 {
			subnet = f.Subnets[f.NextSubnet%len(f.Subnets)]
			f.NextSubnet++
		}
		in := &instance{
			ID:         "i-" + s.id("instance", 17),
			AMI:        ami,
			Subnet:     subnet,
			Zone:       s.zone(subnet),
			Seq:        s.Seq,
			LaunchedAt: at,
		}
		f.Instances = append(f.Instances, in)
		out = append(out, in)
	}
	return out
}

// zone maps "subnet-1a" to "ap-northeast-1a": the AZ letter is the
// subnet name's last character.
func (s *state) zone(subnet string) string {
	if subnet == "" {
		return s.Region + "a"
	}
	last := subnet[len(subnet)-1]
	if last >= 'a' && last <= 'z' {
		return s.Region + string(last)
	}
	return subnet
}

// terminate removes instances of f at time at; those registered in the
// target group drain for its deregistration delay.
func (s *state) terminate(f *fleet, ids map[string]bool, at time.Time) {
	kept := f.Instances[:0]
	tg := s.TargetGroups[f.TargetGroup]
	for _, in := range f.Instances {
		if !ids[in.ID] {
			kept = append(kept, in)
			continue
		}
		if tg != nil && !at.Before(s.inService(in)) && tg.DeregDelay > 0 {
			tg.Draining = append(tg.Draining, drain{ID: in.ID, Until: at.Add(tg.DeregDelay)})
		}
	}
	f.Instances = kept
}

// progress advances the fleet's instance refresh to now.
func progress(s *state, f *fleet, now time.Time) {
	for f.Refresh != nil {
		r := f.Refresh
		if len(r.Batch) == 0 && !startBatch(s, f) {
			return
		}
		done := r.At
		for _, sw := range r.Batch {
			if in := f.instance(sw.New); in != nil {
				if h := s.healthyAt(f, in); h.After(done) {
					done = h
				}
			}
		}
		if done.After(now) {
			return
		}
		old := map[string]bool{}
		for _, sw := range r.Batch {
			old[sw.Old] = true
		}
		s.terminate(f, old, done)
		r.Batch, r.At = nil, done
	}
}

// startBatch launches the next batch of replacements, or ends the refresh
// when its checkpoint is reached. It reports whether a batch is in flight.
func startBatch(s *state, f *fleet) bool {
	r := f.Refresh
	want := (f.Capacity.Desired*r.Percent + 99) / 100
	var old []*instance
	have := 0
	for _, in := range f.Instances {
		if in.AMI == r.AMI {
			have++
		} else {
			old = append(old, in)
		}
	}
	if have >= want && (r.Percent < 100 || len(old) == 0) {
		if r.Percent >= 100 {
			f.Version, f.AMI, f.Refresh = r.Version, r.AMI, nil
		}
		return false
	}
	n := min(batchSize(f.Capacity.Desired), want-have, len(old))
	if n <= 0 {
		n = min(batchSize(f.Capacity.Desired), len(old))
	}
	if n <= 0 {
		return false
	}
	for i, in := range s.launch(f, r.AMI, n, r.At) {
		r.Batch = append(r.Batch, swap{Old: old[i].ID, New: in.ID})
	}
	return true
}

// batchSize is 25% of desired capacity, at least one instance: with the
// replacement launched before the old one goes, healthy capacity stays at
// or above 75% even when health checks are slow.
func batchSize(desired int) int { return max(1, desired/4) }

func (f *fleet) instance(id string) *instance {
	for _, in := range f.Instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
