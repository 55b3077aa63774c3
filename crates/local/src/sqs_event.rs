//! SQS messages as a Lambda event source mapping hands them to a function.

use std::collections::HashMap;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{Message, MessageAttributeValue};

/// The event Lambda builds from one received batch of `queue_arn`.
pub fn event(messages: &[Message], queue_arn: &str, region: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| record(m, queue_arn, region))
        .collect();
    event
}

/// One record: the message with its system attributes (string-valued, by
/// their SQS names) and its message attributes.
pub fn record(message: &Message, queue_arn: &str, region: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id.clone();
    record.receipt_handle = message.receipt_handle.clone();
    record.body = message.body.clone();
    record.md5_of_body = message.md5_of_body.clone();
    record.md5_of_message_attributes = message.md5_of_message_attributes.clone();
    record.attributes = message
        .attributes
        .iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
        .collect();
    record.message_attributes = message
        .message_attributes
        .iter()
        .flatten()
        .map(|(name, value)| (name.clone(), attribute(value)))
        .collect::<HashMap<_, _>>();
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(queue_arn.into());
    record.aws_region = Some(region.into());
    record
}

fn attribute(value: &MessageAttributeValue) -> SqsMessageAttribute {
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = value.string_value.clone();
    attribute.binary_value = value
        .binary_value
        .as_ref()
        .map(|blob| base64_data(blob.as_ref()));
    attribute.string_list_values = value.string_list_values.clone().unwrap_or_default();
    attribute.binary_list_values = value
        .binary_list_values
        .iter()
        .flatten()
        .map(|blob| base64_data(blob.as_ref()))
        .collect();
    attribute.data_type = Some(value.data_type.clone());
    attribute
}

fn base64_data(bytes: &[u8]) -> Base64Data {
    // `Base64Data` is non-exhaustive: build it through `DerefMut`.
    let mut data = Base64Data::default();
    data.extend_from_slice(bytes);
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::primitives::Blob;
    use aws_sdk_sqs::types::MessageSystemAttributeName as Attr;

    fn fifo_message() -> Message {
        Message::builder()
            .message_id("m-1")
            .receipt_handle("rh-1")
            .body("hello")
            .md5_of_body("5d41402abc4b2a76b9719d911017c592")
            .attributes(Attr::ApproximateReceiveCount, "1")
            .attributes(Attr::MessageGroupId, "session-1")
            .attributes(Attr::MessageDeduplicationId, "d-1")
            .attributes(Attr::SequenceNumber, "18849496460467696128")
            .message_attributes(
                "text",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("v")
                    .build()
                    .unwrap(),
            )
            .message_attributes(
                "bytes",
                MessageAttributeValue::builder()
                    .data_type("Binary")
                    .binary_value(Blob::new(vec![0u8, 1, 255]))
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn a_fifo_message_serialises_as_lambda_delivers_it() {
        // given a received FIFO message with string and binary attributes
        let message = fifo_message();

        // when it becomes an event
        let event = event(
            &[message],
            "arn:aws:sqs:us-east-1:123456789012:q.fifo",
            "us-east-1",
        );
        let json = serde_json::to_value(&event).unwrap();

        // then the JSON has Lambda's names and encodings
        let r = &json["Records"][0];
        assert_eq!(r["messageId"], "m-1");
        assert_eq!(r["receiptHandle"], "rh-1");
        assert_eq!(r["body"], "hello");
        assert_eq!(r["md5OfBody"], "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(
            r["eventSourceARN"],
            "arn:aws:sqs:us-east-1:123456789012:q.fifo"
        );
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(r["attributes"]["MessageGroupId"], "session-1");
        assert_eq!(r["attributes"]["MessageDeduplicationId"], "d-1");
        assert_eq!(r["attributes"]["SequenceNumber"], "18849496460467696128");
        assert_eq!(r["messageAttributes"]["text"]["stringValue"], "v");
        assert_eq!(r["messageAttributes"]["text"]["dataType"], "String");
        assert_eq!(r["messageAttributes"]["bytes"]["binaryValue"], "AAH/");
        assert_eq!(r["messageAttributes"]["bytes"]["dataType"], "Binary");
    }

    #[test]
    fn the_event_reads_back_as_the_runtime_crate_parses_it() {
        let event = event(&[fifo_message()], "arn", "us-east-1");
        let text = serde_json::to_string(&event).unwrap();
        let back: SqsEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event);
        let bytes = &back.records[0].message_attributes["bytes"];
        assert_eq!(bytes.binary_value.as_ref().unwrap().0, vec![0u8, 1, 255]);
    }
}
