package dailyreport_test

import (
	"testing"
	"time"

	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/pkg/handler"
)

func TestReportIDAndDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		at      time.Time
		id, day string
	}{
		{name: "daily tick", at: time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC), id: "daily#2026-11-23T03:00:00Z", day: "2026-11-22"},
		{name: "first of the month", at: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), id: "daily#2026-12-01T03:00:00Z", day: "2026-11-30"},
		{name: "non-UTC time is the same tick", at: time.Date(2026, 11, 23, 4, 0, 0, 0, time.FixedZone("CET", 3600)), id: "daily#2026-11-23T03:00:00Z", day: "2026-11-22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tick := handler.Tick{Schedule: "r", Time: tt.at}
			if got := dailyreport.ReportID(tick); got != tt.id {
				t.Errorf("ReportID = %q, want %q", got, tt.id)
			}
			if got := dailyreport.Day(tick); got != tt.day {
				t.Errorf("Day = %q, want %q", got, tt.day)
			}
		})
	}
}
