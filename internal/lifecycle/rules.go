package lifecycle

import (
	"encoding/json"
	"strings"
)

// oneOfActions is ECR's refusal of an action that is neither an expire
// (no targetStorageClass, not even null) nor a transition to archive.
const oneOfActions = "instance failed to match exactly one schema (matched 0 out of 2)"

// parseRule checks one rule on its own: its members, their types and
// values, and how a selection's members go together.
func parseRule(raw json.RawMessage, at string) (Rule, error) {
	m, err := object(raw, at, []string{"rulePriority", "description", "selection", "action"}, []string{"rulePriority", "selection", "action"})
	if err != nil {
		return Rule{}, err
	}
	var r Rule
	if r.Priority, err = integer(m, "rulePriority", at); err != nil {
		return Rule{}, err
	}
	if d, ok, err := str(m, "description", at); err != nil {
		return Rule{}, err
	} else if ok {
		r.Description = &d
	}
	if r.Selection, err = parseSelection(m["selection"], at+"/selection"); err != nil {
		return Rule{}, err
	}
	if r.Action, err = parseAction(m["action"], at+"/action"); err != nil {
		return Rule{}, err
	}
	return r, checkRule(r)
}

func parseSelection(raw json.RawMessage, at string) (Selection, error) {
	m, err := object(raw, at,
		[]string{"tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber"},
		[]string{"tagStatus", "countType", "countNumber"})
	if err != nil {
		return Selection{}, err
	}
	var s Selection
	if s.TagStatus, _, err = str(m, "tagStatus", at, TagTagged, TagUntagged, TagAny); err != nil {
		return s, err
	}
	if s.TagPatternList, _, err = stringList(m, "tagPatternList", at); err != nil {
		return s, err
	}
	if s.TagPrefixList, _, err = stringList(m, "tagPrefixList", at); err != nil {
		return s, err
	}
	if s.StorageClass, _, err = str(m, "storageClass", at, ClassStandard, ClassArchive); err != nil {
		return s, err
	}
	if s.CountType, _, err = str(m, "countType", at, CountMoreThan, CountSincePushed, CountSincePulled, CountSinceTransitioned); err != nil {
		return s, err
	}
	if s.CountUnit, _, err = str(m, "countUnit", at, "days"); err != nil {
		return s, err
	}
	if _, ok := m["countUnit"]; ok && s.CountUnit == "" {
		return s, invalid("instance value (\"\") not found in enum (possible values: [\"days\"])")
	}
	s.CountNumber, err = integer(m, "countNumber", at)
	return s, err
}

func parseAction(raw json.RawMessage, at string) (Action, error) {
	m, err := object(raw, at, []string{"type", "targetStorageClass"}, []string{"type"})
	if err != nil {
		return Action{}, err
	}
	var a Action
	if a.Type, _, err = str(m, "type", at, ActionExpire, ActionTransition); err != nil {
		return a, err
	}
	_, hasTarget := m["targetStorageClass"]
	switch a.Type {
	case ActionExpire:
		if hasTarget {
			return a, invalid(oneOfActions)
		}
	case ActionTransition:
		if !hasTarget {
			return a, invalid(oneOfActions)
		}
		if a.TargetStorageClass, _, err = str(m, "targetStorageClass", at, ClassArchive); err != nil {
			return a, invalid(oneOfActions)
		}
	}
	return a, nil
}

// checkRule checks what one rule's selection and action allow together.
func checkRule(r Rule) error {
	s := r.Selection
	switch {
	case s.TagStatus == TagTagged && s.TagPrefixList == nil && s.TagPatternList == nil:
		return invalid("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.")
	case s.TagStatus == TagTagged && s.TagPrefixList != nil && s.TagPatternList != nil:
		return invalid("tagPrefixList and tagPatternList cannot be used together in one rule.")
	case s.TagStatus != TagTagged && (s.TagPrefixList != nil || s.TagPatternList != nil):
		return invalid("tagPrefixList and tagPatternList can only be used with tagStatus=TAGGED.")
	}
	for _, p := range s.TagPatternList {
		if strings.Count(p, "*") > maxWildcards {
			return invalid("tagPatternList entry %q has more than %d wildcards.", p, maxWildcards)
		}
	}
	since := s.CountType != CountMoreThan
	switch {
	case since && s.CountUnit == "":
		return invalid("countUnit is required when countType=%s.", s.CountType)
	case !since && s.CountUnit != "":
		return invalid("countUnit cannot be used when countType=imageCountMoreThan.")
	}
	switch s.CountType {
	case CountSinceTransitioned:
		if s.StorageClass != ClassArchive {
			return invalid("storageClass=archive is required when countType=sinceImageTransitioned.")
		}
		if r.Action.Type != ActionExpire {
			return invalid("countType=sinceImageTransitioned can only be used with action type=expire.")
		}
		if s.CountNumber < minArchiveDays {
			return invalid("Archived images cannot be expired before %d days in archive: countNumber must be at least %d.", minArchiveDays, minArchiveDays)
		}
	default:
		if s.StorageClass == ClassArchive {
			return invalid("storageClass=archive can only be used with countType=sinceImageTransitioned.")
		}
	}
	if s.CountType == CountSincePulled && r.Action.Type != ActionTransition {
		return invalid("countType=sinceImagePulled can only be used with action type=transition.")
	}
	return nil
}

// checkRules checks what the rules of one policy allow together: rules
// sorted by priority.
func checkRules(rules []Rule) error {
	for i := 1; i < len(rules); i++ {
		if rules[i].Priority == rules[i-1].Priority {
			return invalid("The rulePriority %d is used by more than one rule; each rule must have a unique rulePriority.", rules[i].Priority)
		}
	}
	untagged := map[string]bool{}
	anyAt := map[string]int{}
	for _, r := range rules {
		c := r.class()
		switch r.Selection.TagStatus {
		case TagUntagged:
			if untagged[c] {
				return invalid("Only one rule can select Untagged images per storage class.")
			}
			untagged[c] = true
		case TagAny:
			if _, ok := anyAt[c]; ok {
				return invalid("Rule for tagStatus=ANY must have the lowest priority per storage class")
			}
			anyAt[c] = r.Priority
		}
	}
	for _, r := range rules {
		if p, ok := anyAt[r.class()]; ok && r.Priority > p {
			return invalid("Rule for tagStatus=ANY must have the lowest priority per storage class")
		}
	}
	return nil
}
