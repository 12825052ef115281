{{- define "axon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "axon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "axon.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: axon
{{- end -}}

{{- define "axon.registry.name" -}}{{ include "axon.fullname" . | trunc 54 | trimSuffix "-" }}-registry{{- end -}}
{{- define "axon.mlosd.name" -}}{{ include "axon.fullname" . | trunc 57 | trimSuffix "-" }}-mlosd{{- end -}}

{{- define "axon.registry.selector" -}}
app.kubernetes.io/name: axon-registry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "axon.mlosd.selector" -}}
app.kubernetes.io/name: mlosd
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The in-cluster registry as mlosd reaches it: Service name and port. */}}
{{- define "axon.registryHost" -}}{{ include "axon.registry.name" . }}:{{ .Values.registry.port }}{{- end -}}

{{/* Every name of the registry Service a model ref may use, for --plain-http. */}}
{{- define "axon.plainHTTP" -}}
{{- if .Values.mlosd.plainHTTP -}}
{{- join "," .Values.mlosd.plainHTTP -}}
{{- else -}}
{{- $n := include "axon.registry.name" . -}}{{- $p := .Values.registry.port -}}
{{- printf "%s:%v,%s.%s.svc:%v,%s.%s.svc.cluster.local:%v" $n $p $n .Release.Namespace $p $n .Release.Namespace $p -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security level, for pods and containers. */}}
{{- define "axon.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "axon.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "axon.registry.storageURL" -}}
{{- if eq .Values.registry.storage.type "s3" -}}
{{- $s := .Values.registry.storage.s3 -}}
{{- $q := list (printf "region=%s" $s.region) -}}
{{- if $s.endpoint -}}{{- $q = prepend $q (printf "endpoint=%s" $s.endpoint) -}}{{- end -}}
s3://{{ required "registry.storage.s3.bucket is required" $s.bucket }}{{ if $s.prefix }}/{{ $s.prefix }}{{ end }}?{{ join "&" $q }}
{{- else -}}
/var/lib/axon-registry
{{- end -}}
{{- end -}}

{{- define "axon.registry.s3Secret" -}}
{{- if .Values.registry.storage.s3.existingSecret -}}{{ .Values.registry.storage.s3.existingSecret }}{{- else -}}{{ include "axon.registry.name" . }}-s3{{- end -}}
{{- end -}}

{{- define "axon.registry.keysSecret" -}}
{{- if .Values.registry.keys.existingSecret -}}{{ .Values.registry.keys.existingSecret }}{{- else -}}{{ include "axon.registry.name" . }}-keys{{- end -}}
{{- end -}}
