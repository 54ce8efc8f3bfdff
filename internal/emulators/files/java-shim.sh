#!/bin/sh
# Written by latch for LocalStack's DynamoDB: LocalStack runs this as its
# Java 21 and asks for "java [-javaagent:A] ... -jar DynamoDBLocal.jar ARGS".
# It runs the host's JDK instead, through the BindLoopback launcher so that
# DynamoDB Local listens on 127.0.0.1 only; the agent, which only lifts the
# 20-index limit and is not installed, is dropped.
jar=
for a do
  shift
  case $jar$a in
    -javaagent:*) ;;
    -jar) jar=next ;;
    next*) jar=done; d=$(dirname "$a"); set -- "$@" -cp "$a:$d/DynamoDBLocal_lib/*:$d/launcher" BindLoopback ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec '@JAVA@' "$@"
