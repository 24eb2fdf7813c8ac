{{/* The chart's name, or nameOverride. */}}
{{- define "mcpo-ts.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource names: fullnameOverride, else release-chart (the release name alone when it already holds the chart's). */}}
{{- define "mcpo-ts.fullname" -}}
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

{{- define "mcpo-ts.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcpo-ts.labels" -}}
helm.sh/chart: {{ include "mcpo-ts.chart" . }}
{{ include "mcpo-ts.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mcpo-ts.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcpo-ts.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcpo-ts.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcpo-ts.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap that holds config.json: existingConfigMap, else the chart's own. */}}
{{- define "mcpo-ts.configMapName" -}}
{{- default (include "mcpo-ts.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{/* The Secret whose keys become environment variables: existingSecret, else the chart's own when secret.create; empty when none. */}}
{{- define "mcpo-ts.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if .Values.secret.create }}
{{- include "mcpo-ts.fullname" . }}
{{- end }}
{{- end }}

{{/* The root path with no trailing slash ("" when none): the ops routes (/livez, /readyz, /metrics) live under it. */}}
{{- define "mcpo-ts.rootPath" -}}
{{- .Values.rootPath | trimSuffix "/" }}
{{- end }}

{{/* The Service port the metrics are scraped on: its own port when metrics.port is set, else the main one. */}}
{{- define "mcpo-ts.metricsPortName" -}}
{{- if .Values.metrics.port }}metrics{{ else }}http{{ end }}
{{- end }}
