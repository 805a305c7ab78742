package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// surveyExport is the raw data the pipeline starts from, as a survey tool exports it: CRLF line
// ends, a header in capitals, and some answers missing.
const surveyExport = "ID,AGE,HOURS,SCORE\r\n" +
	"1,34,6.5,71\r\n2,,4.0,58\r\n3,51,7.5,80\r\n4,28,3.0,\r\n5,45,8.0,84\r\n" +
	"6,39,5.5,69\r\n7,23,2.5,52\r\n8,60,9.0,90\r\n9,31,,61\r\n10,42,6.0,73\r\n" +
	"11,36,5.0,66\r\n12,55,8.5,87\r\n13,29,3.5,57\r\n14,48,7.0,79\r\n15,26,4.5,60\r\n"

// ingest normalises the export: LF line ends and a lower-case header.
func ingest(export []byte, rawPath string) error {
	text := strings.ReplaceAll(string(export), "\r\n", "\n")
	header, rows, _ := strings.Cut(text, "\n")
	return os.WriteFile(rawPath, []byte(strings.ToLower(header)+"\n"+rows), 0o644)
}

// clean keeps the rows with every field present.
func clean(rawPath, cleanPath string) error {
	raw, err := os.ReadFile(rawPath)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.Contains(line, ",,") || strings.HasSuffix(line, ",") {
			continue
		}
		out.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return os.WriteFile(cleanPath, out.Bytes(), 0o644)
}

// model is a linear model of score from hours of study, fitted by ridge regression.
type model struct {
	Target    string  `json:"target"`
	Feature   string  `json:"feature"`
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	Ridge     float64 `json:"ridge"`
}

// metrics describe the fit.
type metrics struct {
	Rows int     `json:"rows"`
	RMSE float64 `json:"rmse"`
}

// train fits score = intercept + slope·hours on the clean data, with an L2 penalty ridge on the
// slope, and writes the model and its metrics rounded to six places, so the same inputs always
// give the same bytes.
func train(cleanPath string, ridge float64, modelPath, metricsPath string) error {
	data, err := os.ReadFile(cleanPath)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 3 {
		return fmt.Errorf("train: %s has too few rows", cleanPath)
	}
	var xs, ys []float64
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) != 4 {
			return fmt.Errorf("train: malformed row %q", line)
		}
		x, err1 := strconv.ParseFloat(f[2], 64)
		y, err2 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("train: malformed row %q", line)
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i]/n, my+ys[i]/n
	}
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	slope := sxy / (sxx + ridge)
	intercept := my - slope*mx
	var sse float64
	for i := range xs {
		r := ys[i] - (intercept + slope*xs[i])
		sse += r * r
	}
	m := model{Target: "score", Feature: "hours", Intercept: round6(intercept), Slope: round6(slope), Ridge: ridge}
	if err := writeJSON(modelPath, m); err != nil {
		return err
	}
	return writeJSON(metricsPath, metrics{Rows: len(xs), RMSE: round6(math.Sqrt(sse / n))})
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
