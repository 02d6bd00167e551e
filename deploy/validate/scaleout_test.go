package validate

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const scaleOutDir = "../kubernetes-scaleout"

// kustomize builds a kustomization as `kubectl apply -k` does (krusty's
// default options: files only from within each kustomization's root, no
// plugins; and kubectl's legacy order, Namespace and Secrets before the
// Deployment) and decodes every object it emits strictly, so that what is
// checked is what the API server would be sent.
func kustomize(t *testing.T, dir string) *cluster {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs, err := decodeManifests("kustomize build "+dir, out)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{objects: objs}
}

// TestKubernetesScaleOut checks deploy/kubernetes-scaleout: the base as
// three replicas on PostgreSQL and S3, each a pod anywhere with scratch for
// a data dir, ready only while it reaches both stores.
func TestKubernetesScaleOut(t *testing.T) {
	checkScaleOut(t, kustomize(t, scaleOutDir), scaleOutInputsOf(t))
	checkOverlayFiles(t)
}

// scaleOutInputs is what the overlay is checked against besides itself.
type scaleOutInputs struct {
	variables            map[string]bool // README.md's flag tables' ECRD_* names
	dataDir, credentials string          // deploy/ecrd.toml's
}

func scaleOutInputsOf(t *testing.T) scaleOutInputs {
	return scaleOutInputs{variables: readmeVariables(t), dataDir: setting(t, "data-dir"), credentials: setting(t, "credentials")}
}

// checkScaleOut reports, through t, every way the built overlay falls
// short of running ecrd as replicas.
func checkScaleOut(t testing.TB, c *cluster, in scaleOutInputs) {
	t.Helper()
	d := only[*appsv1.Deployment](t, c)
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	ct := spec.Containers[0]

	seen := map[string]bool{}
	for _, o := range c.objects {
		kind := fmt.Sprintf("%T", o)
		if _, isNS := o.(*corev1.Namespace); !isNS && o.GetNamespace() != d.Namespace {
			t.Errorf("%s %q is in namespace %q, the Deployment in %q", kind, o.GetName(), o.GetNamespace(), d.Namespace)
		}
		if seen[kind+"/"+o.GetName()] {
			t.Errorf("%s %q is emitted twice", kind, o.GetName())
		}
		seen[kind+"/"+o.GetName()] = true
		if o.GetLabels()["app.kubernetes.io/name"] != "ecrd" {
			t.Errorf("%s %q lacks the label app.kubernetes.io/name: ecrd", kind, o.GetName())
		}
		// A claim outlives the pods: what lasts is in the stores.
		if _, ok := o.(*corev1.PersistentVolumeClaim); ok {
			t.Errorf("PersistentVolumeClaim %q: replicas keep nothing on a volume", o.GetName())
		}
	}

	// Rollout: one new pod at a time, an old one gone only once it is ready.
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil ||
		ru.MaxUnavailable.String() != "0" || ru.MaxSurge == nil || ru.MaxSurge.String() == "0" {
		t.Errorf("strategy %+v: want RollingUpdate with maxUnavailable 0 and a surge: a replica goes only once its successor is ready", d.Spec.Strategy)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", ct.ReadinessProbe, "/readyz"}, {"liveness", ct.LivenessProbe, "/healthz"}, {"startup", ct.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || portNumber(ct, p.probe.HTTPGet.Port) != 5000 {
			t.Errorf("%s probe %+v: want GET %s on the container port 5000", p.name, p.probe, p.path)
		}
	}

	// Volumes: scratch for the data dir, the base's config files.
	volumes, mounts := checkVolumes(t, c, spec)
	if v, ok := volumes[mounts[in.dataDir]]; !ok || v.EmptyDir == nil || !reflect.DeepEqual(v.VolumeSource, corev1.VolumeSource{EmptyDir: v.EmptyDir}) {
		t.Errorf("data-dir %s is on %+v: want an emptyDir and nothing else (scratch)", in.dataDir, v.VolumeSource)
	}
	checkConfigFiles(t, ct, volumes, mounts, in.credentials)
	checkScaleOutEnv(t, c, ct, in.variables)

	pdb := only[*policyv1.PodDisruptionBudget](t, c)
	if pdb.Spec.Selector == nil || len(pdb.Spec.Selector.MatchExpressions) > 0 || !subset(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pod's labels %v", pdb.Spec.Selector, d.Spec.Template.Labels)
	}
	ma := pdb.Spec.MinAvailable
	if ma == nil || ma.Type != intstr.Int || ma.IntVal < 1 || d.Spec.Replicas == nil || ma.IntVal >= *d.Spec.Replicas || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PodDisruptionBudget minAvailable %v of %v replicas: want at least 1 and fewer than all, or no node could ever be drained", ma, d.Spec.Replicas)
	}
	if !spreadOverNodes(spec, d.Spec.Template.Labels) {
		t.Errorf("no topologySpreadConstraint or pod anti-affinity over kubernetes.io/hostname selecting the pods: the replicas may share a node")
	}

	// What the base's tests hold and the overlay keeps.
	if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("the selector %v does not select the pod's labels %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	checkPorts(t, ct)
	checkPodSecurity(t, spec)
	if s := only[*corev1.Service](t, c); !subset(s.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pod's labels %v", s.Spec.Selector, d.Spec.Template.Labels)
	}
}

// secretEnv are the variables that carry secrets: never plain values in
// the Deployment, which more people may read than its Secrets.
var secretEnv = []string{"ECRD_POSTGRES_DSN", "ECRD_S3_ACCESS_KEY", "ECRD_S3_SECRET_KEY"}

// checkScaleOutEnv checks that the container gets only ecrd's settings,
// the stores' secrets from a Secret that has them, and both scale-out
// stores.
func checkScaleOutEnv(t testing.TB, c *cluster, ct corev1.Container, known map[string]bool) {
	t.Helper()
	if len(ct.EnvFrom) > 0 {
		t.Errorf("envFrom %v: it puts variables of any name in ecrd's environment", ct.EnvFrom)
	}
	values := map[string]string{}
	for _, e := range ct.Env {
		if !known[e.Name] {
			t.Errorf("env %s is no ecrd setting (not in README.md's flag tables)", e.Name)
		}
		if _, dup := values[e.Name]; dup {
			t.Errorf("env %s is set twice", e.Name)
		}
		values[e.Name] = e.Value
		if slices.Contains(secretEnv, e.Name) != (e.ValueFrom != nil) {
			t.Errorf("env %s: want a Secret's key for %v, and a plain value for the rest", e.Name, secretEnv)
		}
		if e.ValueFrom == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref == nil {
			t.Errorf("env %s: from %+v, want a secretKeyRef", e.Name, e.ValueFrom)
			continue
		}
		if ref.Optional != nil && *ref.Optional {
			t.Errorf("env %s: an optional Secret key would start ecrd without it", e.Name)
		}
		sec := find[*corev1.Secret](c, ref.Name)
		if sec == nil {
			t.Errorf("env %s: no Secret %q", e.Name, ref.Name)
			continue
		}
		v, ok := sec.StringData[ref.Key]
		if b, inData := sec.Data[ref.Key]; inData {
			v, ok = string(b), true
		}
		if !ok || v == "" {
			t.Errorf("env %s: Secret %q has no key %q", e.Name, ref.Name, ref.Key)
		}
		values[e.Name] = v
	}
	for name, want := range map[string]string{"ECRD_META": "postgres", "ECRD_BLOB": "s3"} {
		if values[name] != want {
			t.Errorf("env %s %q, want %q", name, values[name], want)
		}
	}
	for _, name := range append(slices.Clone(secretEnv), "ECRD_S3_BUCKET", "ECRD_HOSTNAME", "ECRD_PUBLIC_HOSTNAME") {
		if values[name] == "" {
			t.Errorf("env %s is not set: every replica needs the same one", name)
		}
	}
	if u, err := url.Parse(values["ECRD_POSTGRES_DSN"]); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		t.Errorf("ECRD_POSTGRES_DSN: want a postgres:// URL naming a host (err %v)", err)
	}
	if e, ok := values["ECRD_S3_ENDPOINT"]; ok {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Errorf("ECRD_S3_ENDPOINT %q: want an http(s) URL", e)
		}
	}
	for _, name := range []string{"ECRD_S3_PATH_STYLE", "ECRD_TLS_AT_PROXY"} {
		if v, ok := values[name]; ok {
			if _, err := strconv.ParseBool(v); err != nil {
				t.Errorf("env %s %q: want true or false", name, v)
			}
		}
	}
}

// flagRow is a line of one of README.md's flag tables: the flag, then the
// variable, then its description, which may name more (the S3 keys, which
// are variables only).
var (
	flagRow = regexp.MustCompile(`(?m)^  --[a-z0-9-]+ .*$`)
	envName = regexp.MustCompile(`\bECRD_[A-Z0-9_]+\b`)
)

// readmeVariables returns the variables README.md's flag tables name,
// which internal/config's TestConfigReference keeps complete.
func readmeVariables(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for _, row := range flagRow.FindAllString(string(readFile(t, "README.md")), -1) {
		for _, name := range envName.FindAllString(row, -1) {
			known[name] = true
		}
	}
	if !known["ECRD_LISTEN"] || !known["ECRD_S3_ACCESS_KEY"] || !known["ECRD_S3_SECRET_KEY"] {
		t.Fatalf("README.md's flag tables name %v: want ECRD_LISTEN and the S3 keys among them", sortedKeys(known))
	}
	return known
}

// spreadOverNodes says the pod's scheduling keeps replicas on different
// nodes where it can: a spread constraint or anti-affinity over host names
// that selects the pods themselves.
func spreadOverNodes(spec corev1.PodSpec, labels map[string]string) bool {
	const hostname = "kubernetes.io/hostname"
	for _, tsc := range spec.TopologySpreadConstraints {
		if tsc.TopologyKey == hostname && tsc.LabelSelector != nil && subset(tsc.LabelSelector.MatchLabels, labels) {
			return true
		}
	}
	if a := spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		terms := a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
		for _, term := range terms {
			if term.TopologyKey == hostname && term.LabelSelector != nil && subset(term.LabelSelector.MatchLabels, labels) {
				return true
			}
		}
	}
	return false
}

// checkOverlayFiles checks that the overlay's kustomization names every
// file beside it, as a resource or a patch: a file it forgets is a change
// that is never applied.
func checkOverlayFiles(t *testing.T) {
	t.Helper()
	var k struct {
		kustomization
		Patches []struct {
			Path string `json:"path"`
		} `json:"patches"`
	}
	data, err := os.ReadFile(filepath.Join(scaleOutDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unmarshalStrict(data, &k); err != nil {
		t.Fatalf("kubernetes-scaleout/kustomization.yaml: %v", err)
	}
	named := slices.Clone(k.Resources)
	for _, p := range k.Patches {
		named = append(named, p.Path)
	}
	files, err := filepath.Glob(filepath.Join(scaleOutDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "kustomization.yaml" && !slices.Contains(named, name) {
			t.Errorf("kubernetes-scaleout/%s is neither a resource nor a patch of kubernetes-scaleout/kustomization.yaml", name)
		}
	}
	if !slices.Contains(k.Resources, kubeDir) {
		t.Errorf("kubernetes-scaleout/kustomization.yaml: resources %v, want the base %s among them", k.Resources, kubeDir)
	}
}

// The base, built by kustomize, is what the other tests decode from its
// files, with kustomization.yaml's image set: those tests check what
// `kubectl apply -k deploy/kubernetes` applies.
func TestKubernetesBaseBuild(t *testing.T) {
	built, files := kustomize(t, kubeDir), loadCluster(t)
	for _, o := range files.objects {
		if d, ok := o.(*appsv1.Deployment); ok {
			for i, ct := range d.Spec.Template.Spec.Containers {
				for _, img := range files.kustomization.Images {
					if ct.Image == img.Name {
						d.Spec.Template.Spec.Containers[i].Image = img.NewName + ":" + img.NewTag
					}
				}
			}
		}
	}
	key := func(o any) string { return fmt.Sprintf("%T/%s", o, o.(interface{ GetName() string }).GetName()) }
	want := map[string]any{}
	for _, o := range files.objects {
		want[key(o)] = o
	}
	if len(built.objects) != len(files.objects) {
		t.Errorf("kustomize emits %d objects, the files hold %d", len(built.objects), len(files.objects))
	}
	for _, o := range built.objects {
		if w, ok := want[key(o)]; !ok {
			t.Errorf("kustomize emits %s, which no file holds", key(o))
		} else if !reflect.DeepEqual(o, w) {
			t.Errorf("kustomize emits %s as\n%+v\nthe files hold\n%+v", key(o), o, w)
		}
	}
}
