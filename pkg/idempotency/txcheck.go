package idempotency

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits on one TransactWriteItems call.
const (
	// MaxTxItems is the most items one transaction may hold; Transact's
	// record takes one of them.
	MaxTxItems = 100
	// MaxTxSize is the most bytes the items of one transaction may total.
	MaxTxSize = 4 * 1024 * 1024
)

// checkWrites finds, before any call, what DynamoDB would refuse in writes
// plus a record of recordSize bytes: too many items, too many bytes, a write
// that is not exactly one operation, two operations on one item. It returns
// an *InvalidTransactionError without key fields.
//
// Two Puts on one item are not found: a Put names its item by all of its
// attributes, and which of them form the key depends on the table's schema,
// which latch does not read. DynamoDB refuses such a transaction with a
// ValidationException, which pkg/retry classifies as permanent.
func checkWrites(writes []types.TransactWriteItem, recordSize int) error {
	if n := len(writes) + 1; n > MaxTxItems {
		return &InvalidTransactionError{Index: -1, Reason: fmt.Sprintf("%d writes and the record make %d items, more than the %d a transaction may hold", len(writes), n, MaxTxItems)}
	}
	size := recordSize
	keys := make(map[string]int, len(writes))
	var puts []int
	for i, w := range writes {
		table, key, n := operation(w)
		if n != 1 {
			return &InvalidTransactionError{Index: i, Reason: fmt.Sprintf("holds %d operations; each write must hold exactly one of Put, Update, Delete or ConditionCheck", n)}
		}
		if table == "" {
			return &InvalidTransactionError{Index: i, Reason: "has no table name"}
		}
		size += writeSize(w)
		if w.Put != nil {
			puts = append(puts, i)
			continue
		}
		id := itemID(table, key)
		if j, ok := keys[id]; ok {
			return &InvalidTransactionError{Index: i, Reason: fmt.Sprintf("operates on the item of write %d; a transaction may operate on an item once", j)}
		}
		keys[id] = i
	}
	// A Put names its item by its attributes: it collides with a keyed
	// operation whose key attributes it holds with the same values.
	for _, i := range puts {
		p := writes[i].Put
		for j, w := range writes {
			table, key, _ := operation(w)
			if w.Put != nil || table != *p.TableName || !holds(p.Item, key) {
				continue
			}
			return &InvalidTransactionError{Index: max(i, j), Reason: fmt.Sprintf("operates on the item of write %d; a transaction may operate on an item once", min(i, j))}
		}
	}
	if size > MaxTxSize {
		return &InvalidTransactionError{Index: -1, Reason: fmt.Sprintf("the writes and the record take about %d bytes, more than the %d a transaction may hold", size, MaxTxSize)}
	}
	return nil
}

// operation returns the table and key of w's operation (a Put's key is nil:
// its whole item) and how many operations w holds.
func operation(w types.TransactWriteItem) (table string, key map[string]types.AttributeValue, n int) {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if w.Put != nil {
		n++
		table = str(w.Put.TableName)
	}
	if w.Update != nil {
		n++
		table, key = str(w.Update.TableName), w.Update.Key
	}
	if w.Delete != nil {
		n++
		table, key = str(w.Delete.TableName), w.Delete.Key
	}
	if w.ConditionCheck != nil {
		n++
		table, key = str(w.ConditionCheck.TableName), w.ConditionCheck.Key
	}
	return table, key, n
}

// holds reports whether item has every attribute of key with the same value.
func holds(item, key map[string]types.AttributeValue) bool {
	if len(key) == 0 {
		return false
	}
	for name, v := range key {
		if scalar(item[name]) != scalar(v) || scalar(v) == "" {
			return false
		}
	}
	return true
}

// itemID is a canonical name of the item table+key.
func itemID(table string, key map[string]types.AttributeValue) string {
	names := make([]string, 0, len(key))
	for name := range key {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(table)
	for _, name := range names {
		fmt.Fprintf(&b, "\x00%s\x00%s", name, scalar(key[name]))
	}
	return b.String()
}

// scalar is a key attribute value with its type: the only types a key may
// have are S, N and B. Anything else is "".
func scalar(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberB:
		return "B:" + string(v.Value)
	}
	return ""
}

// writeSize estimates what w adds to a transaction's size, from above: its
// item or key, its expressions, their names and values.
func writeSize(w types.TransactWriteItem) int {
	n := 0
	expr := func(ss ...*string) {
		for _, s := range ss {
			if s != nil {
				n += len(*s)
			}
		}
	}
	names := func(m map[string]string) {
		for k, v := range m {
			n += len(k) + len(v)
		}
	}
	switch {
	case w.Put != nil:
		n += itemSize(w.Put.Item) + itemSize(w.Put.ExpressionAttributeValues)
		expr(w.Put.ConditionExpression)
		names(w.Put.ExpressionAttributeNames)
	case w.Update != nil:
		n += itemSize(w.Update.Key) + itemSize(w.Update.ExpressionAttributeValues)
		expr(w.Update.UpdateExpression, w.Update.ConditionExpression)
		names(w.Update.ExpressionAttributeNames)
	case w.Delete != nil:
		n += itemSize(w.Delete.Key) + itemSize(w.Delete.ExpressionAttributeValues)
		expr(w.Delete.ConditionExpression)
		names(w.Delete.ExpressionAttributeNames)
	case w.ConditionCheck != nil:
		n += itemSize(w.ConditionCheck.Key) + itemSize(w.ConditionCheck.ExpressionAttributeValues)
		expr(w.ConditionCheck.ConditionExpression)
		names(w.ConditionCheck.ExpressionAttributeNames)
	}
	return n
}

// itemSize is DynamoDB's item size rule, rounded up: names plus values,
// a few bytes of overhead per nested element.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value) + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		return totalLen(v.Value, 0)
	case *types.AttributeValueMemberNS:
		return totalLen(v.Value, 1)
	case *types.AttributeValueMemberBS:
		return totalLen(v.Value, 0)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value) + len(v.Value)
	default: // BOOL, NULL
		return 1
	}
}

// totalLen is the summed length of a set's members, each counted with extra
// bytes (1 for numbers, as valueSize counts a lone N).
func totalLen[E string | []byte](members []E, extra int) int {
	n := 0
	for _, m := range members {
		n += len(m) + extra
	}
	return n
}

// tooLargeForRecord is the error of a result that does not fit in its
// record. Do stores such a record without data, because its effect happened;
// Transact refuses it, because nothing has happened yet.
func tooLargeForRecord(size, limit int) error {
	return &InvalidTransactionError{Index: -1, Reason: fmt.Sprintf("result of %d bytes exceeds the %d bytes a record can hold", size, limit)}
}
