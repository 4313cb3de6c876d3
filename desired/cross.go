package desired

import "fmt"

// Checks across stacks. Stacks come sorted by environment then role, so the
// second of two conflicting stacks is the one rejected.

// checkTargetGroups rejects a stack that names a target group another stack
// owns: two stacks moving the same weights would fight forever. Invalid
// stacks count as owners too, since they are left running as they are.
func checkTargetGroups(stacks []*stackFile) {
	owner := map[string]*stackFile{}
	for _, sf := range stacks {
		for i, tg := range sf.stack.Target.TargetGroups {
			prev, taken := owner[tg]
			switch {
			case tg == "":
			case !taken:
				owner[tg] = sf
			case prev != sf:
				field := fmt.Sprintf("target.targetGroups[%d]", i)
				sf.fail(sf.lines.at(field), field, "target group %q is already owned by %s", tg, prev.stack.File)
			}
		}
	}
}

// checkPriorities rejects a stack whose listener rule priorities overlap
// another's on the same listener and rule.
func checkPriorities(stacks []*stackFile) {
	for j, sf := range stacks {
		for _, prev := range stacks[:j] {
			if overlap(prev.stack, sf.stack) {
				p := sf.stack.Routing.Priority
				sf.fail(priorityLine(sf), "routing.priority",
					"priorities %d..%d overlap those of %s on the same listener and rule", p, p+PriorityRange-1, prev.stack.File)
				break
			}
		}
	}
}

func overlap(a, b Stack) bool {
	if a.Target.Listener == "" || a.Target.Listener != b.Target.Listener || a.Target.Rule != b.Target.Rule {
		return false
	}
	pa, pb := a.Routing.Priority, b.Routing.Priority
	return pa < pb+PriorityRange && pb < pa+PriorityRange
}

// priorityLine points at routing.priority, or at the listener when the
// priority is the default.
func priorityLine(sf *stackFile) int {
	if sf.lines.has("routing.priority") {
		return sf.lines.at("routing.priority")
	}
	return sf.lines.at("target.listener")
}

// checkPromotion rejects a version newer than the one the previous
// environment runs for the same role, unless promotion.override gives a
// reason. It walks environments in promotion order, so a stack rejected
// here is not a reference for the next environment.
func checkPromotion(stacks []*stackFile, envs []string) {
	valid := map[StackID]*stackFile{}
	for _, sf := range stacks {
		if prev := previous(sf.stack.ID, envs, valid); prev != nil {
			checkOrder(sf, prev)
		}
		if len(sf.errs) == 0 {
			valid[sf.stack.ID] = sf
		}
	}
}

func previous(id StackID, envs []string, valid map[StackID]*stackFile) *stackFile {
	for i, e := range envs {
		if e == id.Env && i > 0 {
			return valid[StackID{Env: envs[i-1], Role: id.Role}]
		}
	}
	return nil
}

func checkOrder(sf, prev *stackFile) {
	c, err := CompareVersions(sf.stack.Version, prev.stack.Version)
	if err != nil || c <= 0 || sf.stack.Override != "" {
		return
	}
	sf.fail(sf.lines.at("version"), "version",
		"%s is newer than %s in %s: promote through %s first, or give promotion.override a reason",
		sf.stack.Version, prev.stack.Version, prev.stack.ID, prev.stack.ID.Env)
}
