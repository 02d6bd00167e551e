package validate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const kubeDir = "../kubernetes"

// kinds are the objects the manifests may hold, by apiVersion and kind.
// Anything else is a mistake: a misspelt kind, or an API version clusters
// no longer serve.
var kinds = map[string]func() metav1.Object{
	"v1/Namespace":             func() metav1.Object { return &corev1.Namespace{} },
	"v1/ConfigMap":             func() metav1.Object { return &corev1.ConfigMap{} },
	"v1/Secret":                func() metav1.Object { return &corev1.Secret{} },
	"v1/PersistentVolumeClaim": func() metav1.Object { return &corev1.PersistentVolumeClaim{} },
	"v1/Service":               func() metav1.Object { return &corev1.Service{} },
	"apps/v1/Deployment":       func() metav1.Object { return &appsv1.Deployment{} },
	// The scale-out overlay's: a budget that keeps two of three replicas.
	"policy/v1/PodDisruptionBudget": func() metav1.Object { return &policyv1.PodDisruptionBudget{} },
}

// kustomization is the part of kustomize's Kustomization that
// deploy/kubernetes uses; anything else in it fails the strict decoding.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

var (
	documentSep = regexp.MustCompile(`(?m)^---[ \t]*$`)
	commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)
)

// decodeManifests decodes every object of a YAML file, each into its
// k8s.io/api type, refusing unknown fields, duplicate keys and unknown
// kinds.
func decodeManifests(name string, data []byte) ([]metav1.Object, error) {
	var out []metav1.Object
	for i, doc := range documentSep.Split(string(data), -1) {
		if strings.TrimSpace(commentLine.ReplaceAllString(doc, "")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: document %d: apiVersion %q kind %q is not one of %v", name, i, tm.APIVersion, tm.Kind, sortedKeys(kinds))
		}
		obj := newObj()
		if err := unmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, tm.Kind, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// unmarshalStrict decodes YAML as the API server decodes JSON: field names
// match case-sensitively, and unknown or duplicate fields are errors (the
// API server drops the first and, at best, warns).
func unmarshalStrict(doc []byte, v any) error {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// cluster is deploy/kubernetes, decoded.
type cluster struct {
	kustomization kustomization
	files         []string
	objects       []metav1.Object
}

func loadCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{}
	data, err := os.ReadFile(filepath.Join(kubeDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unmarshalStrict(data, &c.kustomization); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(kubeDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" {
			continue
		}
		c.files = append(c.files, name)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(name, data)
		if err != nil {
			t.Fatal(err)
		}
		c.objects = append(c.objects, objs...)
	}
	return c
}

// find returns the object of type T named name, or nil.
func find[T metav1.Object](c *cluster, name string) T {
	var zero T
	for _, o := range c.objects {
		if v, ok := o.(T); ok && o.GetName() == name {
			return v
		}
	}
	return zero
}

func only[T metav1.Object](t testing.TB, c *cluster) T {
	t.Helper()
	var found []T
	for _, o := range c.objects {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of type %T, want 1", len(found), *new(T))
	}
	return found[0]
}

func TestKubernetesManifests(t *testing.T) {
	c := loadCluster(t)
	k := c.kustomization
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion %q kind %q", k.APIVersion, k.Kind)
	}
	if got, want := slices.Sorted(slices.Values(k.Resources)), c.files; !reflect.DeepEqual(got, want) {
		t.Errorf("kustomization.yaml lists %v; the directory holds %v", got, want)
	}
	seen := map[string]bool{}
	for _, o := range c.objects {
		kind := fmt.Sprintf("%T", o)
		if errs := validation.IsDNS1123Subdomain(o.GetName()); len(errs) > 0 {
			t.Errorf("%s %q: %v", kind, o.GetName(), errs)
		}
		if seen[kind+"/"+o.GetName()] {
			t.Errorf("%s %q is defined twice", kind, o.GetName())
		}
		seen[kind+"/"+o.GetName()] = true
		if _, isNS := o.(*corev1.Namespace); isNS {
			if o.GetName() != k.Namespace {
				t.Errorf("Namespace %q, but kustomization.yaml puts everything in %q", o.GetName(), k.Namespace)
			}
		} else if ns := o.GetNamespace(); ns != "" && ns != k.Namespace {
			t.Errorf("%s %q is in namespace %q, kustomization.yaml's is %q", kind, o.GetName(), ns, k.Namespace)
		}
		if o.GetLabels()["app.kubernetes.io/name"] != "ecrd" {
			t.Errorf("%s %q lacks the label app.kubernetes.io/name: ecrd", kind, o.GetName())
		}
	}
	d := only[*appsv1.Deployment](t, c)
	for _, img := range k.Images {
		if !slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(ct corev1.Container) bool { return ct.Image == img.Name }) {
			t.Errorf("kustomization.yaml sets image %q, which no container uses", img.Name)
		}
	}
}

// The Deployment refers only to what the other manifests define, and runs
// ecrd as the embedded store needs and the image allows.
func TestKubernetesDeployment(t *testing.T) {
	c := loadCluster(t)
	d := only[*appsv1.Deployment](t, c)
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("want 1 replica and strategy Recreate: the embedded store is one process per data dir")
	}
	if d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("strategy Recreate with rollingUpdate settings: the API server refuses it")
	}
	if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("the selector %v does not select the pod's labels %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	ct := spec.Containers[0]
	volumes, mounts := checkVolumes(t, c, spec)

	// The files ecrd reads are where the config file says.
	if v := volumes[mounts[setting(t, "data-dir")]]; v.PersistentVolumeClaim == nil {
		t.Errorf("data-dir %s is not on the PersistentVolumeClaim", setting(t, "data-dir"))
	}
	checkConfigFiles(t, ct, volumes, mounts, setting(t, "credentials"))
	checkPorts(t, ct)
	for name, p := range map[string]*corev1.Probe{"readiness": ct.ReadinessProbe, "liveness": ct.LivenessProbe, "startup": ct.StartupProbe} {
		if p == nil {
			if name != "startup" {
				t.Errorf("no %s probe", name)
			}
			continue
		}
		if p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || portNumber(ct, p.HTTPGet.Port) != 5000 {
			t.Errorf("%s probe %+v: want GET /healthz on the container port 5000 (the main listener)", name, p.ProbeHandler)
		}
	}
	checkPodSecurity(t, spec)
}

// checkVolumes checks that every claim, ConfigMap, Secret and key the pod's
// volumes name exists, and every mount names a volume. It returns the
// volumes by name and the mounts' volume names by mount path.
func checkVolumes(t testing.TB, c *cluster, spec corev1.PodSpec) (map[string]corev1.Volume, map[string]string) {
	t.Helper()
	ct := spec.Containers[0]
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		if pvc := v.PersistentVolumeClaim; pvc != nil && find[*corev1.PersistentVolumeClaim](c, pvc.ClaimName) == nil {
			t.Errorf("volume %s: no PersistentVolumeClaim %q", v.Name, pvc.ClaimName)
		}
		var sources []corev1.VolumeProjection
		if v.Projected != nil {
			sources = v.Projected.Sources
		}
		if v.ConfigMap != nil {
			sources = append(sources, corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: v.ConfigMap.LocalObjectReference, Items: v.ConfigMap.Items}})
		}
		if v.Secret != nil {
			sources = append(sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: v.Secret.SecretName}, Items: v.Secret.Items}})
		}
		for _, s := range sources {
			if s.ConfigMap != nil {
				cm := find[*corev1.ConfigMap](c, s.ConfigMap.Name)
				if cm == nil {
					t.Errorf("volume %s: no ConfigMap %q", v.Name, s.ConfigMap.Name)
					continue
				}
				for _, it := range s.ConfigMap.Items {
					if _, ok := cm.Data[it.Key]; !ok {
						t.Errorf("volume %s: ConfigMap %q has no key %q", v.Name, cm.Name, it.Key)
					}
				}
			}
			if s.Secret != nil {
				sec := find[*corev1.Secret](c, s.Secret.Name)
				if sec == nil {
					t.Errorf("volume %s: no Secret %q", v.Name, s.Secret.Name)
					continue
				}
				for _, it := range s.Secret.Items {
					_, inData := sec.Data[it.Key]
					if _, ok := sec.StringData[it.Key]; !ok && !inData {
						t.Errorf("volume %s: Secret %q has no key %q", v.Name, sec.Name, it.Key)
					}
				}
			}
		}
	}
	mounts := map[string]string{} // mount path -> volume
	for _, m := range ct.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("volumeMount %s: no such volume", m.Name)
		}
		mounts[m.MountPath] = m.Name
	}
	return volumes, mounts
}

// checkConfigFiles checks that ECRD_CONFIG and the credentials file it
// names are in a mounted ConfigMap or Secret.
func checkConfigFiles(t testing.TB, ct corev1.Container, volumes map[string]corev1.Volume, mounts map[string]string, credentials string) {
	t.Helper()
	config := envValue(ct, "ECRD_CONFIG")
	for _, file := range []string{config, credentials} {
		if !projects(volumes[mounts[filepath.Dir(file)]], filepath.Base(file)) {
			t.Errorf("%s is not in a mounted ConfigMap or Secret", file)
		}
	}
}

// checkPorts checks the container ports against the image's.
func checkPorts(t testing.TB, ct corev1.Container) {
	t.Helper()
	ports := map[int32]bool{}
	for _, p := range ct.Ports {
		ports[p.ContainerPort] = true
	}
	if !ports[5000] || !ports[5001] {
		t.Errorf("container ports %v, want 5000 and 5001 (as the image exposes)", ct.Ports)
	}
}

// checkPodSecurity checks that the pod runs as the image does, and more.
func checkPodSecurity(t testing.TB, spec corev1.PodSpec) {
	t.Helper()
	ct := spec.Containers[0]
	psc, sc := spec.SecurityContext, ct.SecurityContext
	switch {
	case psc == nil || sc == nil:
		t.Fatal("want pod and container securityContexts")
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532:
		t.Errorf("want runAsNonRoot and runAsUser 65532 (the image's user)")
	case psc.FSGroup == nil || *psc.FSGroup != 65532:
		t.Errorf("want fsGroup 65532, so that ecrd can write its data volume")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("want readOnlyRootFilesystem: ecrd writes only to its data dir")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		t.Errorf("want allowPrivilegeEscalation false and capabilities drop ALL")
	}
	if ct.Resources.Requests.Memory().IsZero() || ct.Resources.Limits.Memory().IsZero() || ct.Resources.Requests.Cpu().IsZero() {
		t.Errorf("want CPU and memory requests and a memory limit, got %+v", ct.Resources)
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("want enableServiceLinks: false: the Service ecrd would put ECRD_* variables in ecrd's environment")
	}
}

func envValue(ct corev1.Container, name string) string {
	for _, e := range ct.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// projects says the volume holds a file of that name from a ConfigMap or
// Secret.
func projects(v corev1.Volume, file string) bool {
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		var items []corev1.KeyToPath
		if s.ConfigMap != nil {
			items = s.ConfigMap.Items
		}
		if s.Secret != nil {
			items = s.Secret.Items
		}
		for _, it := range items {
			if it.Path == file {
				return true
			}
		}
	}
	return false
}

func portNumber(ct corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range ct.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

func subset(sub, of map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesService(t *testing.T) {
	c := loadCluster(t)
	d := only[*appsv1.Deployment](t, c)
	s := only[*corev1.Service](t, c)
	if !subset(s.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pod's labels %v", s.Spec.Selector, d.Spec.Template.Labels)
	}
	var exposed []int32
	for _, p := range s.Spec.Ports {
		n := portNumber(d.Spec.Template.Spec.Containers[0], p.TargetPort)
		if n == 0 {
			t.Errorf("Service port %s: targetPort %s is no container port", p.Name, p.TargetPort.String())
		}
		exposed = append(exposed, n)
	}
	if !reflect.DeepEqual(exposed, []int32{5000, 5001}) {
		t.Errorf("Service reaches container ports %v, want 5000 and 5001", exposed)
	}
}

// The ConfigMap carries deploy/ecrd.toml, the Secret the credentials
// example: one text of each to read and to change.
func TestKubernetesCarriesTheExamples(t *testing.T) {
	c := loadCluster(t)
	cm := find[*corev1.ConfigMap](c, "ecrd-config")
	if cm == nil {
		t.Fatal("no ConfigMap ecrd-config")
	}
	if got, want := cm.Data["ecrd.toml"], string(readFile(t, "deploy/ecrd.toml")); got != want {
		t.Errorf("ConfigMap ecrd-config's ecrd.toml differs from deploy/ecrd.toml:\n%s\nwant\n%s", got, want)
	}
	sec := find[*corev1.Secret](c, "ecrd-credentials")
	if sec == nil {
		t.Fatal("no Secret ecrd-credentials")
	}
	creds := sec.StringData["credentials.json"]
	checkCredentials(t, "Secret ecrd-credentials", []byte(creds))
	if want := string(readFile(t, "deploy/credentials.example.json")); creds != want {
		t.Errorf("Secret ecrd-credentials' credentials.json differs from deploy/credentials.example.json")
	}
}

// The decoding is strict: what the API server would refuse, or silently
// drop, fails here.
func TestKubernetesDecodingIsStrict(t *testing.T) {
	for _, tc := range []struct{ name, doc, err string }{
		{"UnknownField", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 1}\n", "unknown field"},
		{"WrongCase", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {hostnetwork: true}}}\n", "unknown field"},
		{"MisplacedField", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 1, containerPort: 1}]}\n", "unknown field"},
		{"DuplicateKey", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\ndata: {c: d}\n", "already set"},
		{"WrongType", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: one}\n", "replicas"},
		{"UnknownKind", "apiVersion: v1\nkind: Deploymnet\nmetadata: {name: x}\n", "not one of"},
		{"RetiredVersion", "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n", "not one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeManifests(tc.name, []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one saying %q", err, tc.err)
			}
		})
	}
}
