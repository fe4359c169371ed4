{{/* Names and labels shared by every manifest of the chart. */}}

{{- define "edgeward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edgeward.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The decision service's name: <fullname>-decision, within 63 characters. */}}
{{- define "edgeward.decisionName" -}}
{{- printf "%s-decision" (include "edgeward.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{- define "edgeward.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "edgeward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: edgeward
{{- end }}

{{/* Selector labels of the edge's pods. */}}
{{- define "edgeward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "edgeward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: edge
{{- end }}

{{/* Selector labels of the decision service's pods. */}}
{{- define "edgeward.decisionSelectorLabels" -}}
app.kubernetes.io/name: {{ include "edgeward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: decision
{{- end }}

{{- define "edgeward.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "edgeward.secretName" -}}
{{- default (include "edgeward.fullname" .) .Values.secret.name }}
{{- end }}

{{/*
The edge file: the operator's config with the chart's listen, admin, shutdown_grace and
drain_delay, and,
with the standalone decision service, the authorize function pointed at it.
*/}}
{{- define "edgeward.edgeConfig" -}}
{{- $cfg := omit (deepCopy .Values.config) "listen" "admin" "shutdown_grace" "drain_delay" }}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%d" (int .Values.ports.http)) }}
{{- $_ := set $cfg "admin" (printf "0.0.0.0:%d" (int .Values.ports.admin)) }}
{{- $_ := set $cfg "shutdown_grace" (printf "%ds" (int .Values.shutdownGraceSeconds)) }}
{{- $_ := set $cfg "drain_delay" (printf "%ds" (int .Values.drainDelaySeconds)) }}
{{- if .Values.decision.enabled }}
{{- $fns := default (dict) $cfg.functions }}
{{- $auth := default (dict) (get $fns "authorize") }}
{{- $_ := set $auth "service_url" (printf "http://%s:%d" (include "edgeward.decisionName" .) (int .Values.decision.ports.sideband)) }}
{{- if not $auth.secret_header_value }}
{{- $_ := set $auth "secret_header_value" "${EDGEWARD_GATEWAY_CREDENTIAL}" }}
{{- end }}
{{- $_ := set $fns "authorize" $auth }}
{{- $_ := set $cfg "functions" $fns }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* The decision file: the operator's decision.config with the chart's listen and admin. */}}
{{- define "edgeward.decisionConfig" -}}
{{- $cfg := omit (deepCopy .Values.decision.config) "listen" "admin" }}
{{- $_ := set $cfg "listen" (printf "0.0.0.0:%d" (int .Values.decision.ports.sideband)) }}
{{- $_ := set $cfg "admin" (printf "0.0.0.0:%d" (int .Values.decision.ports.admin)) }}
{{- toYaml $cfg }}
{{- end }}

{{/* Environment variables from the Secret, one per key, then the plain ones. */}}
{{- define "edgeward.env" -}}
{{- $secret := .secret }}
{{- range .keys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ . }}
{{- end }}
{{- with .env }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A preStop sleep, so that endpoints stop routing to the pod before it stops listening. */}}
{{- define "edgeward.lifecycle" -}}
{{- if gt (int .) 0 }}
lifecycle:
  preStop:
    sleep:
      seconds: {{ int . }}
{{- end }}
{{- end }}
