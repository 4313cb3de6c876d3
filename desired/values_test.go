package desired

import (
	"testing"
	"time"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b    string
		want    int
		wantErr bool
	}{
		{"v1.6", "v1.6", 0, false},
		{"v1.6", "v1.6.0", 0, false},
		{"v1.10", "v1.9", 1, false},
		{"v1.9", "v1.10", -1, false},
		{"v2.0", "v1.99", 1, false},
		{"v1.6.1", "v1.6", 1, false},
		{"v1.6", "v1.6.2", -1, false},
		{"v01.6", "v1.6", 0, false},
		{"1.6", "v1.6", 0, true},
		{"v1", "v1.6", 0, true},
		{"v1.6", "v1.6.1.2", 0, true},
		{"v1.x", "v1.6", 0, true},
		{"v1.6", "v1.-6", 0, true},
		{"v1.6", "", 0, true},
		{"v1.6", "v1.6-rc1", 0, true},
		{"v1.9999999999", "v1.6", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			got, err := CompareVersions(tt.a, tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"0.1%", 0.001, false},
		{"10%", 0.10, false},
		{"10", 0.10, false},
		{" 5 % ", 0.05, false},
		{"100%", 1, false},
		{"-1%", -0.01, false},
		{"", 0, true},
		{"%", 0, true},
		{"ten%", 0, true},
		{"NaN%", 0, true},
		{"Inf", 0, true},
		{"10%%", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePercent(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"15m", 15 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"1500ms", 1500 * time.Millisecond, false},
		{"0", 0, false},
		{"2d", 48 * time.Hour, false},
		{"1w", 168 * time.Hour, false},
		{"-5m", -5 * time.Minute, false},
		{"", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"-2d", 0, true},
		{"1d12h", 0, true},
		{"9999999d", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultSteps(t *testing.T) {
	tests := []struct {
		s    Strategy
		want []string
	}{
		{BlueGreen, []string{"10% 15m0s", "50% 15m0s", "100% 30m0s"}},
		{Canary, []string{"10% 30m0s", "50% 30m0s", "100% 0s"}},
		{Rolling, []string{"25% 5m0s", "50% 5m0s", "75% 5m0s", "100% 5m0s"}},
		{HybridCanary, []string{"internal (5%) 24h0m0s", "pilot (20%) 48h0m0s", "50% 24h0m0s", "100% 168h0m0s"}},
		{"blue", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.s), func(t *testing.T) {
			steps := DefaultSteps(tt.s)
			var got []string
			for _, st := range steps {
				got = append(got, st.String()+" "+st.Pause.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("step %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
			if steps != nil {
				steps[0].Traffic = 99 // a caller's change must not leak into the defaults
				if DefaultSteps(tt.s)[0].Traffic == 99 {
					t.Errorf("got shared default steps, want a fresh slice per call")
				}
			}
		})
	}
}
