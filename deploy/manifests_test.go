package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// KServe's own Go module (github.com/kserve/kserve) drags in Knative, Istio and
// controller-runtime; these are its CRD types field for field, from
// pkg/apis/serving/v1alpha1 and v1beta1, over the real Kubernetes core types,
// decoded with unknown fields refused like the Kubernetes types.

type supportedModelFormat struct {
	Name       string  `json:"name"`
	Version    *string `json:"version,omitempty"`
	AutoSelect *bool   `json:"autoSelect,omitempty"`
	Priority   *int32  `json:"priority,omitempty"`
}

type servingRuntimePodSpec struct {
	Containers       []corev1.Container            `json:"containers"`
	Volumes          []corev1.Volume               `json:"volumes,omitempty"`
	NodeSelector     map[string]string             `json:"nodeSelector,omitempty"`
	Affinity         *corev1.Affinity              `json:"affinity,omitempty"`
	Tolerations      []corev1.Toleration           `json:"tolerations,omitempty"`
	Labels           map[string]string             `json:"labels,omitempty"`
	Annotations      map[string]string             `json:"annotations,omitempty"`
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	HostIPC          bool                          `json:"hostIPC,omitempty"`
}

type servingRuntime struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		SupportedModelFormats []supportedModelFormat `json:"supportedModelFormats,omitempty"`
		MultiModel            *bool                  `json:"multiModel,omitempty"`
		Disabled              *bool                  `json:"disabled,omitempty"`
		ProtocolVersions      []string               `json:"protocolVersions,omitempty"`
		servingRuntimePodSpec `json:",inline"`
		GrpcEndpoint          *string `json:"grpcEndpoint,omitempty"`
		GrpcDataEndpoint      *string `json:"grpcDataEndpoint,omitempty"`
		HTTPDataEndpoint      *string `json:"httpDataEndpoint,omitempty"`
		Replicas              *uint16 `json:"replicas,omitempty"`
		StorageHelper         *struct {
			Disabled bool `json:"disabled,omitempty"`
		} `json:"storageHelper,omitempty"`
	} `json:"spec,omitempty"`
}

type clusterStorageContainer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Container           corev1.Container `json:"container"`
		SupportedURIFormats []struct {
			Prefix string `json:"prefix,omitempty"`
			Regex  string `json:"regex,omitempty"`
		} `json:"supportedUriFormats"`
	} `json:"spec,omitempty"`
	Disabled *bool `json:"disabled,omitempty"`
}

type modelSpec struct {
	ModelFormat struct {
		Name    string  `json:"name"`
		Version *string `json:"version,omitempty"`
	} `json:"modelFormat"`
	Runtime          *string `json:"runtime,omitempty"`
	StorageURI       *string `json:"storageUri,omitempty"`
	RuntimeVersion   *string `json:"runtimeVersion,omitempty"`
	ProtocolVersion  *string `json:"protocolVersion,omitempty"`
	corev1.Container `json:",inline"`
}

type inferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Predictor struct {
			Model                *modelSpec        `json:"model,omitempty"`
			MinReplicas          *int32            `json:"minReplicas,omitempty"`
			MaxReplicas          int32             `json:"maxReplicas,omitempty"`
			ScaleTarget          *int32            `json:"scaleTarget,omitempty"`
			ScaleMetric          *string           `json:"scaleMetric,omitempty"`
			ContainerConcurrency *int64            `json:"containerConcurrency,omitempty"`
			TimeoutSeconds       *int64            `json:"timeout,omitempty"`
			Labels               map[string]string `json:"labels,omitempty"`
			Annotations          map[string]string `json:"annotations,omitempty"`
			corev1.PodSpec       `json:",inline"`
		} `json:"predictor"`
	} `json:"spec"`
}

// kinds maps apiVersion/kind to the Go type a document must decode into.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                                 func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                                func() any { return &appsv1.StatefulSet{} },
	"v1/Service":                                         func() any { return &corev1.Service{} },
	"v1/ConfigMap":                                       func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                          func() any { return &corev1.Secret{} },
	"v1/PersistentVolumeClaim":                           func() any { return &corev1.PersistentVolumeClaim{} },
	"autoscaling/v2/HorizontalPodAutoscaler":             func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/Ingress":                       func() any { return &networkingv1.Ingress{} },
	"serving.kserve.io/v1alpha1/ServingRuntime":          func() any { return &servingRuntime{} },
	"serving.kserve.io/v1alpha1/ClusterServingRuntime":   func() any { return &servingRuntime{} },
	"serving.kserve.io/v1alpha1/ClusterStorageContainer": func() any { return &clusterStorageContainer{} },
	"serving.kserve.io/v1beta1/InferenceService":         func() any { return &inferenceService{} },
}

// decodeFiles is decodeAll of every file pattern matches.
func decodeFiles(t *testing.T, pattern string) []any {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	var objs []any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decodeAll(t, f, b)...)
	}
	return objs
}

// decodeAll decodes every YAML document strictly into its Kubernetes (or KServe)
// type: an unknown or misspelt field, a duplicate key or a wrong type fails.
func decodeAll(t *testing.T, where string, data []byte) []any {
	t.Helper()
	var out []any
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Errorf("%s: document %d: %v", where, i+1, err)
			continue
		}
		mk, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Errorf("%s: document %d: %s %s is no kind this test knows", where, i+1, tm.APIVersion, tm.Kind)
			continue
		}
		obj := mk()
		if err := strictDecode([]byte(doc), obj); err != nil {
			t.Errorf("%s: %s (document %d): %v", where, tm.Kind, i+1, err)
			continue
		}
		out = append(out, obj)
	}
	return out
}

// strictDecode is how the API server decodes with fieldValidation=Strict: YAML to
// JSON (duplicate keys refused), then case-sensitive JSON with unknown and
// duplicate fields refused (sigs.k8s.io/json, the decoder of apimachinery).
func strictDecode(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

var restricted = func() policy.Evaluator {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return ev
}()

// checkRestricted runs Kubernetes' own Pod Security "restricted" checks
// (k8s.io/pod-security-admission, what the admission controller runs).
func checkRestricted(t *testing.T, where string, meta metav1.ObjectMeta, spec *corev1.PodSpec) {
	t.Helper()
	for _, v := range restrictedViolations(meta, spec) {
		t.Errorf("%s: a restricted namespace refuses it: %s", where, v)
	}
}

func restrictedViolations(meta metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	var out []string
	for _, r := range restricted.EvaluatePod(psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}, &meta, spec) {
		if !r.Allowed {
			out = append(out, r.ForbiddenReason+": "+r.ForbiddenDetail)
		}
	}
	return out
}

// TestChecksBite: the checks above refuse what they must, so a pass means something.
func TestChecksBite(t *testing.T) {
	plain := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}
	if v := restrictedViolations(metav1.ObjectMeta{}, &plain); len(v) < 3 {
		t.Errorf("a pod without a securityContext passes the restricted checks: %v", v)
	}
	misspelt := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if err := strictDecode([]byte(misspelt), &appsv1.Deployment{}); err == nil {
		t.Error("a misspelt Deployment field decodes")
	}
	isvc := "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: x}\nspec:\n  predictor:\n    model: {modelFormat: {name: onnx}, storageURI: axon://x}\n"
	if err := strictDecode([]byte(isvc), &inferenceService{}); err == nil {
		t.Error("storageURI (for storageUri) decodes into the InferenceService type")
	}
}

// podSpecs returns the pod templates of the workloads among objs.
func podSpecs(objs []any) map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			out["Deployment "+o.Name] = &o.Spec.Template
		case *appsv1.StatefulSet:
			out["StatefulSet "+o.Name] = &o.Spec.Template
		}
	}
	return out
}

// checkWorkloads: restricted pods, selectors that match, Services that select a
// workload and name a port it has, probes and requests on every container, and
// every flag a container passes accepted by the program.
func checkWorkloads(t *testing.T, where string, objs []any, helps map[string]string) {
	t.Helper()
	type workload struct {
		labels map[string]string
		ports  map[string]bool
	}
	var workloads []workload
	for _, o := range objs {
		var sel *metav1.LabelSelector
		var name string
		switch o := o.(type) {
		case *appsv1.Deployment:
			sel, name = o.Spec.Selector, o.Name
		case *appsv1.StatefulSet:
			sel, name = o.Spec.Selector, o.Name
		default:
			continue
		}
		tpl := podSpecs([]any{o})
		for kind, pt := range tpl {
			w := where + ": " + kind
			if sel == nil || len(sel.MatchLabels) == 0 {
				t.Errorf("%s: no selector", w)
			}
			for k, v := range sel.MatchLabels {
				if pt.Labels[k] != v {
					t.Errorf("%s: selector %s=%s does not match its pod labels", w, k, v)
				}
			}
			checkRestricted(t, w, pt.ObjectMeta, &pt.Spec)
			wl := workload{labels: pt.Labels, ports: map[string]bool{}}
			for _, c := range pt.Spec.Containers {
				cw := w + "/" + c.Name
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil {
					t.Errorf("%s: needs HTTP readiness and liveness probes", cw)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
					t.Errorf("%s: needs cpu and memory requests", cw)
				}
				for _, p := range c.Ports {
					wl.ports[p.Name] = true
				}
				prog := ""
				switch {
				case strings.Contains(c.Image, "registry"):
					prog = "axon-registry"
				case strings.Contains(c.Image, "mlosd"):
					prog = "mlosd"
				}
				if h, ok := helps[prog]; ok {
					checkFlags(t, cw, c.Args, h)
				} else {
					t.Errorf("%s: image %s is neither axon-registry nor mlosd (%s)", cw, c.Image, name)
				}
			}
			workloads = append(workloads, wl)
		}
	}
	for _, o := range objs {
		s, ok := o.(*corev1.Service)
		if !ok {
			continue
		}
		matched := false
		for _, w := range workloads {
			all := len(s.Spec.Selector) > 0
			for k, v := range s.Spec.Selector {
				all = all && w.labels[k] == v
			}
			if all {
				matched = true
				for _, p := range s.Spec.Ports {
					if p.TargetPort.StrVal != "" && !w.ports[p.TargetPort.StrVal] {
						t.Errorf("%s: Service %s targets port %q, which its pods do not name", where, s.Name, p.TargetPort.StrVal)
					}
				}
			}
		}
		if !matched {
			t.Errorf("%s: Service %s selects no workload", where, s.Name)
		}
	}
}

func helps(t *testing.T) map[string]string {
	return map[string]string{"axon-registry": helpText(build(t, "cmd/axon-registry")), "mlosd": helpText(build(t, "cmd/mlosd"))}
}

// TestKubernetesManifestsStrict decodes deploy/k8s strictly into k8s.io/api.
func TestKubernetesManifestsStrict(t *testing.T) {
	objs := decodeFiles(t, "k8s/*.yaml")
	checkWorkloads(t, "deploy/k8s", objs, helps(t))
	// mlosd reaches the registry by the Service's name, over plain HTTP to exactly that host.
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok && d.Name == "mlosd" {
			args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
			if !strings.Contains(args, "--plain-http=axon-registry:5000,") || !strings.Contains(args, "axon-registry.") {
				t.Errorf("mlosd args %q: --plain-http must name the registry Service as the models refer to it", args)
			}
		}
	}
}

// renderChart renders deploy/helm/axon in-process with Helm's own engine.
func renderChart(t *testing.T, values map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load("helm/axon")
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "prod", Namespace: "models", IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("values (values.schema.json): %w", err)
	}
	// Strict: a template that reads a value values.yaml does not define fails.
	return engine.Engine{Strict: true}.Render(ch, vals)
}

func chartObjects(t *testing.T, where string, files map[string]string) []any {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var objs []any
	for _, n := range names {
		if strings.HasSuffix(n, "NOTES.txt") || strings.HasSuffix(n, ".tpl") {
			continue
		}
		objs = append(objs, decodeAll(t, where+" "+n, []byte(files[n]))...)
	}
	return objs
}

func chartValues() map[string]map[string]any {
	models := []any{
		map[string]any{"ref": `{{ include "axon.registryHost" . }}/hf/bert-base-uncased@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`, "name": "bert"},
		map[string]any{"ref": "ghcr.io/acme/tiny:1.0", "options": map[string]any{"maxBatchSize": 8, "maxQueueDelay": "2ms", "intraOpThreads": 2}},
	}
	return map[string]map[string]any{
		"defaults": {},
		"s3-replicas-auth-ingress-hpa": {
			"registry": map[string]any{
				"replicas": 3,
				"storage":  map[string]any{"type": "s3", "s3": map[string]any{"bucket": "models", "endpoint": "http://minio.storage.svc:9000", "existingSecret": "s3-creds"}},
				"keys":     map[string]any{"existingSecret": "axon-keys"},
				"auth":     map[string]any{"htpasswdSecret": "axon-htpasswd", "anonymousRead": true},
				"ui":       map[string]any{"resync": "3s"},
			},
			"mlosd": map[string]any{
				"models": models, "adminTokenSecret": "mlosd-admin",
				"autoscaling": map[string]any{"enabled": true, "maxReplicas": 6},
			},
			"ingress": map[string]any{"enabled": true, "className": "nginx", "registryHost": "models.example.com", "mlosdHost": "infer.example.com",
				"tls": []any{map[string]any{"hosts": []any{"models.example.com"}, "secretName": "tls"}}},
		},
		"s3-chart-secret": {
			"registry": map[string]any{"replicas": 2, "storage": map[string]any{"type": "s3", "s3": map[string]any{"bucket": "b", "accessKeyId": "AK", "secretAccessKey": "SK"}}, "metrics": map[string]any{"port": 0}},
			"mlosd":    map[string]any{"models": models[:1], "modelsPoll": ""},
		},
	}
}

// TestHelmChart renders the chart with Helm's engine for several value sets and
// checks every object strictly, every pod at the restricted level, the flags
// against the programs, and what the pieces must agree on.
func TestHelmChart(t *testing.T) {
	h := helps(t)
	for name, values := range chartValues() {
		t.Run(name, func(t *testing.T) {
			files, err := renderChart(t, values)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			objs := chartObjects(t, name, files)
			checkWorkloads(t, "chart "+name, objs, h)
			checkChartAgreement(t, name, objs, values)
		})
	}

	// What cannot work is refused at render time.
	bad := map[string]map[string]any{
		"filesystem with 2 replicas": {"registry": map[string]any{"replicas": 2}},
		"s3 without credentials":     {"registry": map[string]any{"storage": map[string]any{"type": "s3"}}},
		"unknown storage":            {"registry": map[string]any{"storage": map[string]any{"type": "gcs"}}},
		"a model without ref":        {"mlosd": map[string]any{"models": []any{map[string]any{"name": "x"}}}},
		"a misspelt value":           {"registry": map[string]any{"replica": 2}},
		"a misspelt model option":    {"mlosd": map[string]any{"models": []any{map[string]any{"ref": "r/x:1", "options": map[string]any{"maxBatch": 2}}}}},
	}
	for name, values := range bad {
		if _, err := renderChart(t, values); err == nil {
			t.Errorf("%s: rendered, want an error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func checkChartAgreement(t *testing.T, name string, objs []any, values map[string]any) {
	t.Helper()
	var mlosd, registry *appsv1.Deployment
	var models *corev1.ConfigMap
	var regSvc *corev1.Service
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			if strings.HasSuffix(o.Name, "-mlosd") {
				mlosd = o
			} else {
				registry = o
			}
		case *corev1.ConfigMap:
			models = o
		case *corev1.Service:
			if strings.HasSuffix(o.Name, "-registry") {
				regSvc = o
			}
		}
	}
	if mlosd == nil || registry == nil || models == nil || regSvc == nil {
		t.Fatalf("%s: want the mlosd and registry Deployments, the registry Service and the models ConfigMap", name)
	}
	// models.yaml is what mlosd reads.
	f := filepath.Join(t.TempDir(), "models.yaml")
	os.WriteFile(f, []byte(models.Data["models.yaml"]), 0o644)
	decls, err := mlos.ReadModelsFile(f)
	if err != nil {
		t.Fatalf("%s: the chart's models.yaml: %v\n%s", name, err, models.Data["models.yaml"])
	}
	args := mlosd.Spec.Template.Spec.Containers[0].Args
	var plain []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--plain-http="); ok {
			plain = strings.Split(v, ",")
		}
	}
	regHost := regSvc.Name + ":" + fmt.Sprint(regSvc.Spec.Ports[0].Port)
	if len(plain) == 0 || plain[0] != regHost {
		t.Errorf("%s: mlosd --plain-http %v does not name the registry Service %s", name, plain, regHost)
	}
	for _, d := range decls {
		if strings.Contains(d.Ref, "{{") {
			t.Errorf("%s: ref %q was not templated", name, d.Ref)
		}
		if strings.HasPrefix(d.Ref, regSvc.Name) && !strings.HasPrefix(d.Ref, regHost+"/") {
			t.Errorf("%s: ref %s names the registry but not at %s", name, d.Ref, regHost)
		}
	}
	if m, _ := values["mlosd"].(map[string]any); m != nil {
		if ms, _ := m["models"].([]any); len(ms) != len(decls) {
			t.Errorf("%s: %d models declared in values, %d in models.yaml", name, len(ms), len(decls))
		}
	}
	// Replicas share the signing keys.
	rargs := strings.Join(registry.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{"--session-key-file=", "--token-key-file=", "--ui-resync="} {
		if !strings.Contains(rargs, want) {
			t.Errorf("%s: registry args %q lack %s", name, rargs, want)
		}
	}
	// A scraper reaches /metrics without credentials on the port the annotations
	// name, which the container opens and --metrics-addr serves.
	pod := registry.Spec.Template
	port := pod.Annotations["prometheus.io/port"]
	var metricsArg, metricsPort string
	for _, a := range pod.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--metrics-addr="); ok {
			_, metricsArg, _ = strings.Cut(v, ":")
		}
	}
	for _, p := range pod.Spec.Containers[0].Ports {
		if p.Name == "metrics" {
			metricsPort = fmt.Sprint(p.ContainerPort)
		}
	}
	off := false
	if r, _ := values["registry"].(map[string]any); r != nil {
		if m, _ := r["metrics"].(map[string]any); m != nil && m["port"] == 0 {
			off = true
		}
	}
	switch {
	case off && (port != "" || metricsArg != "" || metricsPort != ""):
		t.Errorf("%s: metrics.port 0, yet annotation %q, --metrics-addr port %q, container port %q", name, port, metricsArg, metricsPort)
	case !off && (port == "" || port != metricsArg || port != metricsPort || pod.Annotations["prometheus.io/scrape"] != "true"):
		t.Errorf("%s: scrape annotation port %q, --metrics-addr port %q and container port %q must agree", name, port, metricsArg, metricsPort)
	}
	mounted := map[string]bool{}
	for _, v := range registry.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			mounted[v.Secret.SecretName] = true
		}
	}
	if len(mounted) == 0 {
		t.Errorf("%s: the registry mounts no Secret for its keys", name)
	}
}

// TestHelmTemplateCLI renders the chart with the helm binary too, where one is
// installed (it is not part of the toolchain: the in-process render above is
// the one that always runs).
func TestHelmTemplateCLI(t *testing.T) {
	helm, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm is not on PATH; TestHelmChart renders the chart with Helm's engine in-process")
	}
	for name, values := range chartValues() {
		vb, _ := json.Marshal(values)
		vf := filepath.Join(t.TempDir(), "values.json")
		os.WriteFile(vf, vb, 0o644)
		out, err := exec.Command(helm, "template", "prod", "helm/axon", "--namespace", "models", "-f", vf).CombinedOutput()
		if err != nil {
			t.Fatalf("helm template (%s): %v\n%s", name, err, out)
		}
		checkWorkloads(t, "helm template "+name, decodeAll(t, "helm template "+name, bytes.TrimSpace(out)), helps(t))
	}
}

// TestKServe decodes the KServe resources into KServe's types and checks the
// pod KServe builds from them (the ServingRuntime's containers with the storage
// initializer as init container) at the restricted level.
func TestKServe(t *testing.T) {
	objs := decodeFiles(t, "kserve/*.yaml")
	var sr *servingRuntime
	var csc *clusterStorageContainer
	var isvc *inferenceService
	for _, o := range objs {
		switch o := o.(type) {
		case *servingRuntime:
			sr = o
		case *clusterStorageContainer:
			csc = o
		case *inferenceService:
			isvc = o
		}
	}
	if sr == nil || csc == nil || isvc == nil {
		t.Fatalf("want a ServingRuntime, a ClusterStorageContainer and an InferenceService under kserve/, got %d objects", len(objs))
	}
	if len(sr.Spec.ProtocolVersions) == 0 || sr.Spec.ProtocolVersions[0] != "v2" {
		t.Errorf("ServingRuntime protocolVersions %v, want v2", sr.Spec.ProtocolVersions)
	}
	onnx := false
	for _, f := range sr.Spec.SupportedModelFormats {
		onnx = onnx || f.Name == "onnx"
	}
	if !onnx {
		t.Errorf("ServingRuntime supports %v, want onnx", sr.Spec.SupportedModelFormats)
	}
	m := isvc.Spec.Predictor.Model
	if m == nil || m.ModelFormat.Name != "onnx" || m.Runtime == nil || *m.Runtime != sr.Name || m.StorageURI == nil {
		t.Fatalf("InferenceService predictor.model %+v must name format onnx, runtime %s and a storageUri", m, sr.Name)
	}
	supported := false
	for _, u := range csc.Spec.SupportedURIFormats {
		supported = supported || (u.Prefix != "" && strings.HasPrefix(*m.StorageURI, u.Prefix))
	}
	if !supported {
		t.Errorf("storageUri %s matches no supportedUriFormats of %s", *m.StorageURI, csc.Name)
	}
	h := helps(t)
	c := sr.Spec.Containers[0]
	if c.Name != "kserve-container" {
		t.Errorf("ServingRuntime container %q: KServe wants kserve-container", c.Name)
	}
	checkFlags(t, "ServingRuntime", c.Args, h["mlosd"])
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--model-dir=/mnt/models") {
		t.Errorf("ServingRuntime args %q: mlosd must serve /mnt/models, where the storage initializer writes", args)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/v2/health/ready" {
		t.Errorf("ServingRuntime: readiness must be /v2/health/ready (ready once the model loaded)")
	}
	if len(csc.Spec.Container.Command)+len(csc.Spec.Container.Args) > 0 {
		t.Errorf("the storage container must leave command and args to KServe (it passes the URI and /mnt/models)")
	}
	// The predictor pod as KServe assembles it; ServingRuntimes have no pod
	// securityContext, so each container must carry the restricted settings.
	pod := corev1.PodSpec{
		InitContainers: []corev1.Container{csc.Spec.Container},
		Containers:     sr.Spec.Containers,
		Volumes:        append(sr.Spec.Volumes, corev1.Volume{Name: "kserve-provision-location", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}),
	}
	checkRestricted(t, "KServe predictor pod", metav1.ObjectMeta{Name: isvc.Name}, &pod)
}
