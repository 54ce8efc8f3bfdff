package dailyreport

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/handler"
)

// ByDayIndex is the orders table's index by UTC day of acceptance.
const ByDayIndex = "byDay"

// ReportID is the report item's key for a tick: one report per scheduled
// time, whichever delivery of the tick writes it.
func ReportID(t handler.Tick) string {
	return "daily#" + t.Time.UTC().Format(time.RFC3339)
}

// Day is the UTC day a tick reports on: the whole day before the one the
// tick is scheduled in (the 03:00 tick of the 23rd reports the 22nd).
func Day(t handler.Tick) string {
	return t.Time.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
}

// Report is one day's summary, as the report item stores it.
type Report struct {
	ReportID    string
	Schedule    string
	TickTime    time.Time
	Day         string
	Orders      int
	Customers   int
	AmountCents map[string]int64 // per currency
	GeneratedAt time.Time
}

// DynamoDBAPI is the part of the DynamoDB API the reporter calls.
type DynamoDBAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// Config wires a Reporter.
type Config struct {
	// DynamoDB reads the orders and writes the reports. Required.
	DynamoDB DynamoDBAPI
	// OrdersTable has the byDay index. Required.
	OrdersTable string
	// ReportsTable (partition key reportId) gets one item per tick.
	// Required.
	ReportsTable string
	// Now stamps generatedAt. Default time.Now.
	Now func() time.Time
}

// Reporter writes the daily reports.
type Reporter struct {
	cfg Config
}

// New checks cfg and returns a Reporter.
func New(cfg Config) (*Reporter, error) {
	if cfg.DynamoDB == nil || cfg.OrdersTable == "" || cfg.ReportsTable == "" {
		return nil, errors.New("dailyreport: Config needs DynamoDB, OrdersTable and ReportsTable")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reporter{cfg: cfg}, nil
}

// Run is the tick function for handler.NewSchedule: it builds the tick's report
// and writes it, unless a report for the tick exists already.
func (r *Reporter) Run(ctx context.Context, t handler.Tick) error {
	rep, err := r.Build(ctx, t)
	if err != nil {
		return err
	}
	return r.write(ctx, rep)
}

// Build sums the orders of the tick's Day.
func (r *Reporter) Build(ctx context.Context, t handler.Tick) (Report, error) {
	rep := Report{
		ReportID:    ReportID(t),
		Schedule:    t.Schedule,
		TickTime:    t.Time.UTC(),
		Day:         Day(t),
		AmountCents: map[string]int64{},
	}
	customers := map[string]bool{}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(r.cfg.OrdersTable),
		IndexName:                 aws.String(ByDayIndex),
		KeyConditionExpression:    aws.String("#d = :d"),
		ExpressionAttributeNames:  map[string]string{"#d": "day"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: rep.Day}},
	}
	for p := dynamodb.NewQueryPaginator(r.cfg.DynamoDB, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("dailyreport: read the orders of %s: %w", rep.Day, err)
		}
		for _, it := range page.Items {
			cur, _ := it["currency"].(*ddbtypes.AttributeValueMemberS)
			amt, _ := it["amountCents"].(*ddbtypes.AttributeValueMemberN)
			cust, _ := it["customerId"].(*ddbtypes.AttributeValueMemberS)
			if cur == nil || amt == nil || cust == nil {
				continue // not an order the worker wrote
			}
			n, err := strconv.ParseInt(amt.Value, 10, 64)
			if err != nil {
				continue
			}
			rep.Orders++
			rep.AmountCents[cur.Value] += n
			customers[cust.Value] = true
		}
	}
	rep.Customers = len(customers)
	rep.GeneratedAt = r.cfg.Now().UTC()
	return rep, nil
}

func (r *Reporter) write(ctx context.Context, rep Report) error {
	amounts := map[string]ddbtypes.AttributeValue{}
	currencies := make([]string, 0, len(rep.AmountCents))
	for c, n := range rep.AmountCents {
		amounts[c] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	_, err := r.cfg.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(r.cfg.ReportsTable),
		Item: map[string]ddbtypes.AttributeValue{
			"reportId":    &ddbtypes.AttributeValueMemberS{Value: rep.ReportID},
			"schedule":    &ddbtypes.AttributeValueMemberS{Value: rep.Schedule},
			"tickTime":    &ddbtypes.AttributeValueMemberS{Value: rep.TickTime.Format(time.RFC3339)},
			"day":         &ddbtypes.AttributeValueMemberS{Value: rep.Day},
			"orders":      &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(rep.Orders)},
			"customers":   &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(rep.Customers)},
			"amountCents": &ddbtypes.AttributeValueMemberM{Value: amounts},
			"generatedAt": &ddbtypes.AttributeValueMemberS{Value: rep.GeneratedAt.Format(time.RFC3339)},
		},
		ConditionExpression: aws.String("attribute_not_exists(reportId)"),
	})
	var exists *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &exists) {
		return nil // an earlier delivery wrote it, then died before saying so
	}
	if err != nil {
		return fmt.Errorf("dailyreport: write %s: %w", rep.ReportID, err)
	}
	return nil
}
