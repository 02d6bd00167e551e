package validate

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// recorder is a testing.TB that keeps what a check reports instead of
// failing the test, so that a test can make sure the check catches what it
// is for. Fatal ends the check's goroutine, as it ends a test's.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fail()                     { r.errs = append(r.errs, "Fail") }
func (r *recorder) FailNow()                  { r.Fail(); runtime.Goexit() }
func (r *recorder) Error(args ...any)         { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(args ...any)         { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }

// record runs check with a recorder and returns what it reported.
func record(t *testing.T, check func(testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.errs
}

func deploymentOf(c *cluster) *appsv1.Deployment { return find[*appsv1.Deployment](c, "ecrd") }
func containerOf(c *cluster) *corev1.Container {
	return &deploymentOf(c).Spec.Template.Spec.Containers[0]
}

// env returns the container's variable of that name (a new one if it has
// none), to change in place.
func env(c *cluster, name string) *corev1.EnvVar {
	ct := containerOf(c)
	for i := range ct.Env {
		if ct.Env[i].Name == name {
			return &ct.Env[i]
		}
	}
	ct.Env = append(ct.Env, corev1.EnvVar{Name: name})
	return &ct.Env[len(ct.Env)-1]
}

// Each way of breaking the built overlay is caught, with a message that
// says what is wrong: the checks above are not vacuous.
func TestKubernetesScaleOutCatches(t *testing.T) {
	in := scaleOutInputsOf(t)
	if errs := record(t, func(tb testing.TB) { checkScaleOut(tb, kustomize(t, scaleOutDir), in) }); len(errs) > 0 {
		t.Fatalf("the overlay as it is: %v", errs)
	}
	for _, tc := range []struct {
		name   string
		mutate func(c *cluster)
		want   string
	}{
		{"OneReplica", func(c *cluster) { *deploymentOf(c).Spec.Replicas = 1 }, "replicas"},
		{"Recreate", func(c *cluster) {
			deploymentOf(c).Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		}, "strategy"},
		{"MaxUnavailable", func(c *cluster) {
			one := intstr.FromInt32(1)
			deploymentOf(c).Spec.Strategy.RollingUpdate.MaxUnavailable = &one
		}, "maxUnavailable 0"},
		{"ReadinessOnHealthz", func(c *cluster) { containerOf(c).ReadinessProbe.HTTPGet.Path = "/healthz" }, "readiness probe"},
		{"ReadinessOnPublicPort", func(c *cluster) { containerOf(c).ReadinessProbe.HTTPGet.Port = intstr.FromString("public") }, "readiness probe"},
		{"LivenessOnReadyz", func(c *cluster) { containerOf(c).LivenessProbe.HTTPGet.Path = "/readyz" }, "liveness probe"},
		{"NoStartupProbe", func(c *cluster) { containerOf(c).StartupProbe = nil }, "startup probe"},
		{"ClaimKept", func(c *cluster) {
			c.objects = append(c.objects, &corev1.PersistentVolumeClaim{})
			c.objects[len(c.objects)-1].SetName("ecrd-data")
			c.objects[len(c.objects)-1].SetNamespace("ecrd")
		}, "PersistentVolumeClaim"},
		{"DataOnClaimToo", func(c *cluster) {
			vols := deploymentOf(c).Spec.Template.Spec.Volumes
			vols[0].PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "ecrd-data"}
		}, "want an emptyDir and nothing else"},
		{"DataOnHostPath", func(c *cluster) {
			vols := deploymentOf(c).Spec.Template.Spec.Volumes
			vols[0].VolumeSource = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/ecrd"}}
		}, "want an emptyDir"},
		{"UnknownVariable", func(c *cluster) { env(c, "ECRD_S3_BUCKETS").Value = "registry" }, "ECRD_S3_BUCKETS is no ecrd setting"},
		{"EnvFrom", func(c *cluster) {
			containerOf(c).EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ecrd-stores"}}}}
		}, "envFrom"},
		{"DSNInPlainSight", func(c *cluster) {
			*env(c, "ECRD_POSTGRES_DSN") = corev1.EnvVar{Name: "ECRD_POSTGRES_DSN", Value: "postgres://ecrd:pw@db/ecrd"}
		}, "want a Secret's key"},
		{"BucketFromSecret", func(c *cluster) {
			env(c, "ECRD_S3_BUCKET").ValueFrom = env(c, "ECRD_S3_ACCESS_KEY").ValueFrom
		}, "a plain value for the rest"},
		{"MissingSecretKey", func(c *cluster) { env(c, "ECRD_S3_SECRET_KEY").ValueFrom.SecretKeyRef.Key = "s3-secret" }, `has no key "s3-secret"`},
		{"MissingSecret", func(c *cluster) { env(c, "ECRD_S3_SECRET_KEY").ValueFrom.SecretKeyRef.Name = "ecrd-s3" }, `no Secret "ecrd-s3"`},
		{"OptionalSecret", func(c *cluster) {
			yes := true
			env(c, "ECRD_POSTGRES_DSN").ValueFrom.SecretKeyRef.Optional = &yes
		}, "optional"},
		{"FromFieldRef", func(c *cluster) {
			env(c, "ECRD_S3_ACCESS_KEY").ValueFrom = &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}
		}, "want a secretKeyRef"},
		{"DSNNotAURL", func(c *cluster) {
			find[*corev1.Secret](c, "ecrd-stores").StringData["postgres-dsn"] = "host=db user=ecrd"
		}, "postgres:// URL"},
		{"MetaSQLite", func(c *cluster) { env(c, "ECRD_META").Value = "sqlite" }, `ECRD_META "sqlite"`},
		{"BlobFS", func(c *cluster) { env(c, "ECRD_BLOB").Value = "fs" }, `ECRD_BLOB "fs"`},
		{"NoHostname", func(c *cluster) { env(c, "ECRD_HOSTNAME").Value = "" }, "ECRD_HOSTNAME is not set"},
		{"PathStyleYes", func(c *cluster) { env(c, "ECRD_S3_PATH_STYLE").Value = "yes" }, "true or false"},
		{"BudgetOfAll", func(c *cluster) {
			three := intstr.FromInt32(3)
			only[*policyv1.PodDisruptionBudget](t, c).Spec.MinAvailable = &three
		}, "fewer than all"},
		{"BudgetSelectsOthers", func(c *cluster) {
			only[*policyv1.PodDisruptionBudget](t, c).Spec.Selector.MatchLabels = map[string]string{"app": "other"}
		}, "PodDisruptionBudget selector"},
		{"NoBudget", func(c *cluster) {
			c.objects = slices.DeleteFunc(c.objects, func(o metav1.Object) bool { _, ok := o.(*policyv1.PodDisruptionBudget); return ok })
		}, "objects of type *v1.PodDisruptionBudget"},
		{"NoSpread", func(c *cluster) { deploymentOf(c).Spec.Template.Spec.TopologySpreadConstraints = nil }, "may share a node"},
		{"SpreadOverZones", func(c *cluster) {
			deploymentOf(c).Spec.Template.Spec.TopologySpreadConstraints[0].TopologyKey = "topology.kubernetes.io/zone"
		}, "may share a node"},
		{"RunsAsRoot", func(c *cluster) {
			root := int64(0)
			deploymentOf(c).Spec.Template.Spec.SecurityContext.RunAsUser = &root
		}, "runAsUser 65532"},
		{"NoConfigMount", func(c *cluster) { containerOf(c).VolumeMounts = containerOf(c).VolumeMounts[:1] }, "/etc/ecrd/ecrd.toml is not in a mounted"},
		{"InAnotherNamespace", func(c *cluster) { find[*corev1.Secret](c, "ecrd-stores").Namespace = "default" }, `"ecrd-stores" is in namespace "default"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kustomize(t, scaleOutDir)
			tc.mutate(c)
			errs := record(t, func(tb testing.TB) { checkScaleOut(tb, c, in) })
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("reported %q, want a report saying %q", errs, tc.want)
			}
		})
	}
}
