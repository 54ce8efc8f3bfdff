package chaos

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Config sizes a chaos run. The zero value is `make chaos`'s.
type Config struct {
	// Messages, when set, sizes the run by its total number of messages:
	// Orders, Duplicates and PoisonPerKind left at zero are then derived
	// from it in make chaos's proportions (about 69% valid orders, 15%
	// duplicates, 16% poison), so `-messages 10000` is a larger make
	// chaos. Zero: the fields' own defaults.
	Messages int
	// Orders is the number of distinct valid orders; default 700.
	Orders int
	// Customers spreads them over this many customers (the ledger's FIFO
	// message groups); default 40.
	Customers int
	// Duplicates is how many valid orders are sent a second time, same
	// body; default 150.
	Duplicates int
	// PoisonPerKind is how many messages of each poison kind are sent;
	// default 15.
	PoisonPerKind int
	// Kills is how many function processes are killed with SIGKILL while
	// messages flow; default 8.
	Kills int
	// Outage is how long DynamoDB Local stays dead before its restart;
	// default 3s.
	Outage time.Duration
	// Deadline bounds the whole run after the stack started: sending and
	// settling. Default 10 minutes per 1,000 messages (at least 10). A
	// quiet two-core machine settles make chaos's 1,015 in about 2.5; the
	// margin is for a loaded one (the run ends as soon as everything
	// settled, so the bound costs nothing when it is not needed).
	Deadline time.Duration
	// Seed makes the message stream and the fault schedule reproducible;
	// default 1.
	Seed uint64
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Messages > 0 {
		// make chaos's 1,015: 700 orders, 150 duplicates, 15 of each of
		// the poison kinds.
		def(&c.PoisonPerKind, max(1, c.Messages*15/1015))
		def(&c.Duplicates, c.Messages*150/1015)
		def(&c.Orders, max(1, c.Messages-c.Duplicates-c.PoisonPerKind*len(poisonKinds)))
	}
	def(&c.Orders, 700)
	def(&c.Customers, 40)
	def(&c.Duplicates, 150)
	def(&c.PoisonPerKind, 15)
	def(&c.Kills, 8)
	if c.Outage == 0 {
		c.Outage = 3 * time.Second
	}
	if c.Deadline == 0 {
		total := c.Orders + c.Duplicates + c.PoisonPerKind*len(poisonKinds)
		c.Deadline = max(10*time.Minute, time.Duration(total)*10*time.Minute/1000)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// order is the order-worker's input (events/order-worker-sqs-batch.json),
// with room for padding: the worker ignores fields it does not know.
type order struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId,omitempty"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	PlacedAt    string `json:"placedAt,omitempty"`
	Note        string `json:"note,omitempty"`
}

// message is one send of the run.
type message struct {
	kind    string // "valid", "duplicate" or a poison kind
	body    string
	orderID string // for valid orders and duplicates
	poison  bool
}

// maxBody is SQS's message size limit (1 MiB since the limit rose from
// 256 KiB); near-limit messages stay a little under it so that latch's DLQ
// attributes still fit beside the body.
const maxBody = 1 << 20

// nearLimit is the body size of the near-limit messages.
const nearLimit = maxBody - 6*1024

// poisonKinds makes each kind of poison message: bodies the order-worker
// cannot decode or that decode to an order it must refuse. SQS refuses an
// empty body and most control characters outright, so "empty" is the
// emptiest bodies SQS takes.
var poisonKinds = []struct {
	kind string
	body func(id string, rng *rand.Rand) string
}{
	{"invalid-utf8", func(id string, _ *rand.Rand) string { return "\xff\xfe\xfd" + id + "\xc3\x28" }},
	{"binary", func(_ string, rng *rand.Rand) string {
		b := make([]byte, 64+rng.IntN(512))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0xe0)) // high bytes make it invalid UTF-8
		}
		return string(b)
	}},
	{"json-array", func(id string, _ *rand.Rand) string {
		return `[{"orderId":"` + id + `","customerId":"c00","amountCents":100,"currency":"EUR","placedAt":"2026-11-22T09:00:00Z"}]`
	}},
	{"wrong-types", func(id string, _ *rand.Rand) string {
		return `{"orderId":"` + id + `","customerId":7,"amountCents":"ten","currency":["EUR"],"placedAt":true}`
	}},
	{"empty", func(_ string, rng *rand.Rand) string { return []string{"{}", " ", "null", `""`, "\n"}[rng.IntN(5)] }},
	{"not-json", func(id string, _ *rand.Rand) string { return "order " + id + " <truncated" }},
	{"near-limit", func(id string, _ *rand.Rand) string {
		b, _ := json.Marshal(order{OrderID: id, AmountCents: 500, Currency: "EUR", PlacedAt: "2026-11-22T09:00:00Z"})
		return string(b[:len(b)-1]) + `,"note":"` + strings.Repeat("x", nearLimit-len(b)-10) + `"}`
	}},
	{"unicode-invalid", func(id string, _ *rand.Rand) string {
		b, _ := json.Marshal(order{OrderID: id + "-ünïcødé-注文-🧾", CustomerID: "客户-😀", AmountCents: 100, Currency: "€UR", PlacedAt: "2026-11-22T09:00:00Z"})
		return string(b)
	}},
	{"zero-amount", func(id string, _ *rand.Rand) string {
		b, _ := json.Marshal(order{OrderID: id, CustomerID: "c00", Currency: "EUR", PlacedAt: "2026-11-22T09:00:00Z"})
		return string(b)
	}},
	{"no-customer", func(id string, _ *rand.Rand) string {
		b, _ := json.Marshal(order{OrderID: id, AmountCents: 500, Currency: "EUR", PlacedAt: "2026-11-22T09:00:00Z"})
		return string(b)
	}},
	{"no-placed-at", func(id string, _ *rand.Rand) string {
		b, _ := json.Marshal(order{OrderID: id, CustomerID: "c01", AmountCents: 500, Currency: "EUR"})
		return string(b)
	}},
}

// bigValid is how many of the valid orders carry a near-limit note, and
// unicodeCustomers how many customers have non-ASCII ids.
const (
	bigValid         = 5
	unicodeCustomers = 4
)

// plan builds the message stream: valid orders (some near the size limit,
// some of customers with non-ASCII ids), exact duplicates of some, and
// poison of every kind, shuffled.
func plan(cfg Config, runID string) (msgs []message, valid []order) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 15))
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	customer := func(n int) string {
		if n < unicodeCustomers {
			return fmt.Sprintf("c%02d-Ünïcødé-客户-😀", n)
		}
		return fmt.Sprintf("c%02d", n)
	}
	for i := range cfg.Orders {
		o := order{
			OrderID:     fmt.Sprintf("%s-o%04d", runID, i),
			CustomerID:  customer(rng.IntN(cfg.Customers)),
			AmountCents: int64(100 + rng.IntN(50000)),
			Currency:    "EUR",
			PlacedAt:    start.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		}
		if i < bigValid {
			o.Note = strings.Repeat("n", nearLimit-300)
		}
		valid = append(valid, o)
		b, _ := json.Marshal(o)
		msgs = append(msgs, message{kind: "valid", body: string(b), orderID: o.OrderID})
	}
	for range cfg.Duplicates {
		m := msgs[rng.IntN(cfg.Orders)]
		m.kind = "duplicate"
		msgs = append(msgs, m)
	}
	for _, pk := range poisonKinds {
		for i := range cfg.PoisonPerKind {
			id := fmt.Sprintf("%s-%s-%03d", runID, pk.kind, i)
			msgs = append(msgs, message{kind: pk.kind, body: pk.body(id, rng), poison: true})
		}
	}
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	return msgs, valid
}
